"""The API keeps its OpenAPI contract: schemathesis, every check, against a live server.

The CLI runs against pytest-django's live server (a real HTTP server on the test database)
with a fixed seed and a bounded number of examples per operation, so the run is the same on
every machine and takes a minute or two. Its one setting is in tests/schemathesis.toml.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ppc_dashboard.tenancy.services import api_key_create
from ppc_dashboard.tenancy.throttling import ApiKeyRateThrottle, CredentialFailureThrottle
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
    TrackingNumberFactory,
)

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 1
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def seeded_key(transactional_db, monkeypatch) -> str:
    """An organization with a little of everything, another tenant beside it, and a key."""
    # Thousands of requests from one address, some with no key or a wrong one on purpose
    # (the ignored_auth check): the limits would soon answer everything with 429.
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1000000/min"})
    monkeypatch.setattr(
        CredentialFailureThrottle, "THROTTLE_RATES", {"credential_failures": "1000000/min"}
    )
    organization = OrganizationFactory(slug="contract", name="Contract Org")
    campaigns = [CampaignFactory(organization=organization) for _ in range(3)]
    publishers = [PublisherFactory(organization=organization) for _ in range(2)]
    buyers = [BuyerFactory(organization=organization) for _ in range(2)]
    for campaign, publisher in zip(campaigns, publishers, strict=False):
        TrackingNumberFactory(organization=organization, campaign=campaign, publisher=publisher)
    for campaign in campaigns:
        AdSpendFactory(organization=organization, campaign=campaign)
    for n in range(8):
        CallFactory(
            organization=organization,
            campaign=campaigns[n % 3],
            publisher=publishers[n % 2],
            buyer=buyers[n % 2],
        )
    CallFactory(organization=OrganizationFactory())  # another tenant's call
    _, raw_key = api_key_create(organization=organization, name="contract")
    return raw_key


def test_the_api_keeps_its_openapi_contract_under_every_check(live_server, seeded_key, tmp_path):
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--url",
        live_server.url,
        "--header",
        f"X-Api-Key: {seeded_key}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--workers",
        "1",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20_000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 40, report[-5_000:]  # every operation ran


# --- What the schema forbids, the server refuses (each found by the run above) ---------------


@pytest.mark.parametrize("page_size", ["null", "", "0", "1001", "-1", "1.5"])
def test_a_page_size_out_of_bounds_is_400(api_client, page_size):
    response = api_client.get(f"/api/v1/campaigns/?page_size={page_size}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_a_page_size_in_bounds_pages(api_client, org):
    for _ in range(3):
        CampaignFactory(organization=org)
    response = api_client.get("/api/v1/campaigns/?page_size=2")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize(
    "path, body",
    [
        ("campaigns", {"name": "A", "nmae": "typo"}),
        ("publishers", {"name": "P", "extra": 1}),
        ("buyers", {"name": "B", "hours": {}}),
    ],
)
def test_an_unknown_field_is_400_naming_it(api_client, path, body):
    response = api_client.post(f"/api/v1/{path}/", body, format="json")
    assert response.status_code == 400
    unknown = next(key for key in body if key not in ("name",))
    assert response.json()["errors"] == {unknown: ["Unknown field."]}


def test_a_number_for_a_name_is_400(api_client):
    response = api_client.post("/api/v1/publishers/", {"name": 7}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]


def test_create_missing_must_be_true_or_false(api_client):
    response = api_client.post("/api/v1/calls/?create_missing=maybe", {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["create_missing"]


@pytest.mark.parametrize("value", ["0", "-5", str(2**63)])
def test_filter_ids_out_of_range_are_400(api_client, value):
    response = api_client.get(f"/api/v1/calls/?publisher={value}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["publisher"]
    response = api_client.get(f"/api/v1/kpis/?publisher={value}")
    assert response.status_code == 400


def test_a_duplicate_window_that_would_overflow_is_400_not_500(api_client, org):
    campaign = CampaignFactory(organization=org)
    response = api_client.patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"duplicate_window_days": 2147483646}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["duplicate_window_days"]


def test_kpis_and_verdicts_are_documented_as_the_objects_they_are(client, db):
    document = client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/kpis/", "/api/v1/verdicts/"):
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert "$ref" in schema["application/json"]["schema"], path  # not an array
        for status in ("400", "401", "404", "429", "503"):
            error = document["paths"][path]["get"]["responses"][status]["content"]
            assert error["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
