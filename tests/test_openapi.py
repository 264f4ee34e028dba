"""The OpenAPI document, the docs page, and a schemathesis run over every operation.

The schemathesis run is part of the normal suite (CI runs it): it posts generated input to
every operation of the schema, authenticated with an API key of an organization that has
campaigns, publishers, buyers, tracking numbers, ad spend and calls, and fails on any 5xx.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from ppc_dashboard.tenancy.services import api_key_create
from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle
from routing.services import PlanTargetInput, routing_plan_save
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
    TrackingNumberFactory,
)

SCHEMA_URL = "/api/schema/?format=json"


@pytest.fixture
def openapi_document(client, db) -> dict:
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def test_schema_is_a_valid_openapi_3_document(openapi_document):
    assert openapi_document["openapi"].startswith("3.")
    validate_schema(openapi_document)  # against the OpenAPI 3 JSON schema; raises if invalid


def test_schema_documents_every_operation_with_api_key_auth(openapi_document):
    security_schemes = openapi_document["components"]["securitySchemes"]
    assert security_schemes["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": security_schemes["ApiKeyAuth"]["description"],
    }
    operation_ids = []
    for path, operations in openapi_document["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            if method == "parameters":
                continue
            operation_ids.append(operation["operationId"])
            assert {"ApiKeyAuth": []} in operation["security"], f"{method} {path}"
    assert len(operation_ids) == len(set(operation_ids))
    assert "calls_conversion_create" in operation_ids


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_summary_a_description_and_a_declared_tag(openapi_document):
    declared = [tag["name"] for tag in openapi_document["tags"]]
    assert all(tag.get("description") for tag in openapi_document["tags"])
    undocumented = [
        name
        for name, operation in _operations(openapi_document)
        if not operation.get("summary", "").strip() or not operation.get("description", "").strip()
    ]
    assert not undocumented, f"operations without a summary or a description: {undocumented}"
    untagged = [
        name
        for name, operation in _operations(openapi_document)
        if not operation.get("tags") or not set(operation["tags"]) <= set(declared)
    ]
    assert not untagged, f"operations without a tag of the declared list: {untagged}"
    # A summary is a title, not the description again.
    summaries = [operation["summary"] for _, operation in _operations(openapi_document)]
    assert len(summaries) == len(set(summaries)), "two operations share a summary"


def test_tags_come_in_integrator_order_calls_and_imports_first(openapi_document):
    declared = [tag["name"] for tag in openapi_document["tags"]]
    assert declared[:2] == ["calls", "imports"]
    used = {tag for _, operation in _operations(openapi_document) for tag in operation["tags"]}
    assert used == set(declared), "a declared tag has no operation, or an operation's is undeclared"
    conversion = openapi_document["paths"]["/api/v1/calls/{external_id}/conversion/"]["post"]
    assert conversion["tags"] == ["calls"]


def test_call_batch_single_call_and_csv_upload_have_examples(openapi_document):
    paths = openapi_document["paths"]
    examples = paths["/api/v1/calls/"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    values = [example["value"] for example in examples.values()]
    batches = [value for value in values if isinstance(value, list)]
    singles = [value for value in values if isinstance(value, dict)]
    assert batches and len(batches[0]) == 2, "no example of a batch of two calls"
    assert singles, "no example of a single call"
    required = {"external_id", "started_at", "status"}
    for call in [*batches[0], *singles]:
        assert required <= set(call)
    assert len({call["external_id"] for call in batches[0]}) == 2

    upload = paths["/api/v1/imports/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload.get("examples"), "no example of the CSV upload"
    for example in upload["examples"].values():
        assert {"file", "format"} <= set(example["value"])
        formats = openapi_document["components"]["schemas"]["FormatEnum"]["enum"]
        assert example["value"]["format"] in formats


def test_call_examples_are_accepted_by_the_api(openapi_document, api_client, org):
    """The documented batch posts as it says: both calls written, atomically."""
    examples = openapi_document["paths"]["/api/v1/calls/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    batch = next(e["value"] for e in examples.values() if isinstance(e["value"], list))
    response = api_client.post("/api/v1/calls/?create_missing=true", batch, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "updated": 0}


def test_docs_page_renders_with_local_static_files_only(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), (
        "the docs page references a URL on another host (a CDN?)"
    )
    # Its start-up script is a file of its own (the CSP allows no inline script).
    assert '<script src="/api/docs/?script="></script>' in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert 'url: "/api/schema/"' in script.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 4
    for asset in assets:
        if asset == "/api/docs/?script=":
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"


# --- schemathesis --------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    """An organization with a little of everything, and its API key; another tenant beside it."""
    organization = OrganizationFactory(slug="fuzz", name="Fuzz Org")
    campaigns = [CampaignFactory(organization=organization) for _ in range(3)]
    publishers = [PublisherFactory(organization=organization) for _ in range(2)]
    buyers = [BuyerFactory(organization=organization) for _ in range(2)]
    tracking = [
        TrackingNumberFactory(organization=organization, campaign=c, publisher=p)
        for c, p in zip(campaigns, publishers, strict=False)
    ]
    spend = [AdSpendFactory(organization=organization, campaign=c) for c in campaigns]
    calls = [
        CallFactory(
            organization=organization,
            campaign=campaigns[n % 3],
            publisher=publishers[n % 2],
            buyer=buyers[n % 2],
        )
        for n in range(8)
    ]
    CallFactory(organization=OrganizationFactory())  # another tenant's call
    plan = routing_plan_save(
        organization=organization,
        campaign=campaigns[0],
        targets=[PlanTargetInput(buyers[0].pk, 1, 3), PlanTargetInput(buyers[1].pk, 2, 1)],
    ).plan
    _, raw_key = api_key_create(organization=organization, name="fuzz")
    return SimpleNamespace(
        raw_key=raw_key,
        ids={
            "campaigns": [c.pk for c in campaigns],
            "publishers": [p.pk for p in publishers],
            "buyers": [b.pk for b in buyers],
            "tracking-numbers": [t.pk for t in tracking],
            "ad-spend": [s.pk for s in spend],
            "calls": [c.external_id for c in calls],
            "routing-plans": [plan.pk],
        },
    )


@pytest.fixture
def connection_kept_across_requests():
    # As Django's test client does: the end of a request must not close the connection that
    # holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_tenant(seeded, connection_kept_across_requests, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1000000/min"})
    monkeypatch.setattr(FuzzTargets, "ids", seeded.ids)
    return seeded


class FuzzTargets:
    """Ids of the seeded rows, set by the `fuzz_tenant` fixture for the strategy below."""

    ids: dict[str, list] = {}


# Loaded at import: schemathesis.pytest.from_fixture fails under pytest 9 (it sets
# `Function._nodeid`, which pytest 9 no longer has). Serving the schema reads no database.
schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, get_wsgi_application())


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Half of the generated ids are rows that exist, so updates and deletes get past the 404.
    if not isinstance(path_parameters, dict) or len(path_parameters) != 1:
        return st.just(path_parameters)
    (name,) = path_parameters
    known = FuzzTargets.ids.get(context.operation.path.split("/")[3], [])
    return st.one_of(
        st.just(path_parameters), st.sampled_from([{name: value} for value in known] or [{}])
    ).map(lambda chosen: chosen or path_parameters)


# Body fields that name a row, and the rows they may name.
REFERENCES = {
    "campaign": "campaigns",
    "campaign_id": "campaigns",
    "publisher": "publishers",
    "publisher_id": "publishers",
    "buyer": "buyers",
    "buyer_id": "buyers",
}


def _naming_known_rows(body):
    if isinstance(body, list):
        return [_naming_known_rows(item) for item in body]
    if not isinstance(body, dict):
        return body
    named = dict(body)
    for key, value in body.items():
        known = FuzzTargets.ids.get(REFERENCES.get(key, ""), [])
        if known and isinstance(value, int) and not isinstance(value, bool):
            named[key] = known[value % len(known)]
        elif isinstance(value, list | dict):
            named[key] = _naming_known_rows(value)  # a plan's targets name buyers
    return named


@schema.hook
def flatmap_body(context, body):
    # Half of the bodies name seeded rows, so creates and updates get past "no such campaign".
    return st.sampled_from([body, _naming_known_rows(body)])


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_api_operation_answers_with_a_server_error(case, fuzz_tenant):
    case.call_and_validate(headers={"X-Api-Key": fuzz_tenant.raw_key}, checks=[not_a_server_error])


# --- Inputs that used to answer 500 ---------------------------------------------------------


def test_call_id_with_a_nul_character_is_404(api_client):
    # PostgreSQL text cannot hold NUL: the lookup itself used to fail with a 500.
    assert api_client.get("/api/v1/calls/a%00b/").status_code == 404
    assert api_client.post("/api/v1/calls/a%00b/conversion/", {}, format="json").status_code == 404


CALL = {"external_id": "x-1", "started_at": "2026-11-02T15:00:00Z", "status": "answered"}


@pytest.mark.parametrize("status", [{}, ["answered"]])
def test_call_with_a_non_string_status_is_400(api_client, org, status):
    CampaignFactory(organization=org, name="Auto")
    response = api_client.post(
        "/api/v1/calls/", {**CALL, "campaign_name": "Auto", "status": status}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


@pytest.mark.parametrize(
    "field, value",
    [("external_id", "x\x00y"), ("caller_region", "I\x00L"), ("tags", {"k": "v\x00"})],
)
def test_call_with_a_nul_character_is_400_naming_the_field(api_client, org, field, value):
    CampaignFactory(organization=org, name="Auto")
    response = api_client.post(
        "/api/v1/calls/", {**CALL, "campaign_name": "Auto", field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
