"""One tenant can neither see nor change another's rows, through any API endpoint or page.

Acme (`org`, `api_client`) owns rows whose names all carry the marker `acme-secret`; Rival
(`other_org`, `other_api_client`) attacks them with Acme's ids and its own key. The attacks are
keyed by (router prefix, viewset action), and a test enumerates the router's URL patterns, so
an endpoint added without an attack here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver

from alerts.models import (
    AlertIncident,
    AlertRule,
    DeliveryStatus,
    FollowUp,
    FollowUpRule,
    OutboundEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from alerts.rules import MISSED_CALL_RATE
from calls.models import AdSpend, Call, CallImport, Campaign
from kpis.rollups import rollups_rebuild
from ppc_dashboard.api_urls import router
from ppc_dashboard.tenancy.models import Role
from publishers.models import Publisher
from routing.models import (
    Buyer,
    RoutingCapCount,
    RoutingPlan,
    RoutingPlanTarget,
    RoutingSlot,
    TrackingNumber,
)
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    OrganizationFactory,
    PublisherFactory,
    TrackingNumberFactory,
)

API = "/api/v1"
MARKER = "acme-secret"
TENANT_MODELS = (
    Campaign,
    Publisher,
    Buyer,
    TrackingNumber,
    AdSpend,
    Call,
    CallImport,
    WebhookEndpoint,
    OutboundEvent,
    WebhookDelivery,
    AlertRule,
    AlertIncident,
    RoutingPlan,
    RoutingPlanTarget,
    RoutingSlot,
    RoutingCapCount,
    FollowUpRule,
    FollowUp,
)


def tenant_rows(organization) -> dict[str, list[dict]]:
    return {
        model.__name__: list(model.objects.for_organization(organization).order_by("pk").values())
        for model in TENANT_MODELS
    }


def _tenant_data(organization, label: str) -> SimpleNamespace:
    campaign = CampaignFactory(organization=organization, name=f"{label} campaign")
    publisher = PublisherFactory(
        organization=organization, name=f"{label} publisher", external_id=f"{label}-pub"
    )
    buyer = BuyerFactory(organization=organization, name=f"{label} buyer")
    tracking = TrackingNumberFactory(
        organization=organization, campaign=campaign, publisher=publisher
    )
    ad_spend = AdSpendFactory(organization=organization, campaign=campaign, publisher=publisher)
    call = CallFactory(
        organization=organization,
        external_id=f"{label}-call",
        campaign=campaign,
        publisher=publisher,
        buyer=buyer,
        tracking_number=tracking,
        dialed_number=tracking.number,
        caller_region=f"{label}-region",
    )
    call_import = CallImport.objects.create(
        organization=organization,
        format="native",
        file=f"imports/{organization.pk}/{label}.csv",
        original_name=f"{label}.csv",
        status="done",
    )
    # Rows, not a publish: nothing is posted anywhere.
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        name=f"{label} endpoint",
        url=f"https://{label}.example.com/hook",
        event_types=["alert.opened"],
    )
    event = OutboundEvent.objects.create(
        organization=organization,
        event_type="alert.opened",
        idempotency_key=f"{label}-event",
        payload={"id": f"{label}-event", "data": {"campaign": f"{label} campaign"}},
    )
    delivery = WebhookDelivery.objects.create(
        organization=organization, event=event, endpoint=endpoint, status=DeliveryStatus.FAILED
    )
    alert_rule = AlertRule.objects.create(
        organization=organization, kind=MISSED_CALL_RATE, campaign=campaign
    )
    incident = AlertIncident.objects.create(
        organization=organization,
        rule=alert_rule,
        kind=MISSED_CALL_RATE,
        campaign=campaign,
        subject_key=f"c{campaign.pk}",
        summary=f"{label} campaign: 20.0% of 20 calls missed in the last 60 min",
        values={"calls": 20},
        opened_at=call.started_at,
        last_seen_at=call.started_at,
    )
    plan = RoutingPlan.objects.create(organization=organization, campaign=campaign, version=1)
    RoutingPlanTarget.objects.create(organization=organization, plan=plan, buyer=buyer)
    followup_rule = FollowUpRule.objects.create(organization=organization, campaign=campaign)
    followup = FollowUp.objects.create(
        organization=organization,
        call=call,
        campaign=campaign,
        publisher=publisher,
        buyer=buyer,
        caller_number=call.caller_number,
        reason="missed",
        due_at=call.started_at,
    )
    return SimpleNamespace(
        plan=plan,
        alert_rule=alert_rule,
        incident=incident,
        followup_rule=followup_rule,
        followup=followup,
        endpoint=endpoint,
        delivery=delivery,
        campaign=campaign,
        publisher=publisher,
        buyer=buyer,
        tracking=tracking,
        ad_spend=ad_spend,
        call=call,
        call_import=call_import,
    )


@pytest.fixture
def acme(org):
    return _tenant_data(org, MARKER)


@pytest.fixture
def rival(other_org):
    return _tenant_data(other_org, "rival")


# --- The attacks, one per (router prefix, action) ------------------------------------------

Attack = Callable[..., object]
ATTACKS: dict[tuple[str, str], Attack] = {}


def attack(prefix: str, action: str) -> Callable[[Attack], Attack]:
    def register(func: Attack) -> Attack:
        ATTACKS[(prefix, action)] = func
        return func

    return register


def _detail(prefix: str, pk: object) -> str:
    return f"{API}/{prefix}/{pk}/"


def _assert_list_shows_only_own_rows(response, own_pk) -> None:
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [own_pk]


for _prefix, _attr in [
    ("campaigns", "campaign"),
    ("publishers", "publisher"),
    ("buyers", "buyer"),
    ("tracking-numbers", "tracking"),
    ("ad-spend", "ad_spend"),
    ("imports", "call_import"),
    ("calls", "call"),
    ("webhook-endpoints", "endpoint"),
    ("webhook-deliveries", "delivery"),
    ("alert-rules", "alert_rule"),
    ("alerts", "incident"),
    ("routing-plans", "plan"),
    ("follow-ups", "followup"),
    ("follow-up-rules", "followup_rule"),
]:

    def _list(client, acme, rival, prefix=_prefix, attr=_attr):
        response = client.get(f"{API}/{prefix}/")
        _assert_list_shows_only_own_rows(response, getattr(rival, attr).pk)
        return response

    def _retrieve(client, acme, rival, prefix=_prefix, attr=_attr):
        key = acme.call.external_id if prefix == "calls" else getattr(acme, attr).pk
        response = client.get(_detail(prefix, key))
        assert response.status_code == 404
        return response

    attack(_prefix, "list")(_list)
    attack(_prefix, "retrieve")(_retrieve)


UPDATES: dict[str, Callable[[SimpleNamespace], dict]] = {
    "campaigns": lambda rival: {"name": "hijacked", "qualifying_seconds": 1},
    "publishers": lambda rival: {"name": "hijacked", "external_id": "hijacked"},
    "buyers": lambda rival: {"name": "hijacked", "phone_number": "+12125550199"},
    "tracking-numbers": lambda rival: {"number": "+18885550199", "campaign": rival.campaign.pk},
    "ad-spend": lambda rival: {"campaign": rival.campaign.pk, "day": "2026-11-09", "amount": "1"},
    "webhook-endpoints": lambda rival: {"name": "hijacked", "url": "https://hijack.example.com/"},
    "alert-rules": lambda rival: {"kind": "no_answer", "campaign": rival.campaign.pk},
    "follow-up-rules": lambda rival: {"campaign": rival.campaign.pk, "on_missed": False},
}
ATTRS = {
    "campaigns": "campaign",
    "publishers": "publisher",
    "buyers": "buyer",
    "tracking-numbers": "tracking",
    "ad-spend": "ad_spend",
    "webhook-endpoints": "endpoint",
    "alert-rules": "alert_rule",
    "follow-up-rules": "followup_rule",
}

for _prefix, _attr in ATTRS.items():

    def _update(client, acme, rival, prefix=_prefix, attr=_attr):
        response = client.put(
            _detail(prefix, getattr(acme, attr).pk), UPDATES[prefix](rival), format="json"
        )
        assert response.status_code == 404
        return response

    def _partial_update(client, acme, rival, prefix=_prefix, attr=_attr):
        response = client.patch(
            _detail(prefix, getattr(acme, attr).pk), UPDATES[prefix](rival), format="json"
        )
        assert response.status_code == 404
        return response

    def _destroy(client, acme, rival, prefix=_prefix, attr=_attr):
        response = client.delete(_detail(prefix, getattr(acme, attr).pk))
        assert response.status_code == 404
        return response

    attack(_prefix, "update")(_update)
    attack(_prefix, "partial_update")(_partial_update)
    attack(_prefix, "destroy")(_destroy)


def _create_with_same_name_is_separate(client, prefix: str, name: str, model) -> object:
    # Names are unique per tenant: Acme's name neither blocks Rival nor is revealed to it.
    response = client.post(f"{API}/{prefix}/", {"name": name}, format="json")
    assert response.status_code == 201, response.json()
    created = model.objects.get(pk=response.json()["id"])
    assert created.organization.slug == "rival"
    return SimpleNamespace(status_code=201, content=b"")


@attack("campaigns", "create")
def _create_campaign(client, acme, rival):
    return _create_with_same_name_is_separate(client, "campaigns", acme.campaign.name, Campaign)


@attack("publishers", "create")
def _create_publisher(client, acme, rival):
    return _create_with_same_name_is_separate(client, "publishers", acme.publisher.name, Publisher)


@attack("buyers", "create")
def _create_buyer(client, acme, rival):
    return _create_with_same_name_is_separate(client, "buyers", acme.buyer.name, Buyer)


@attack("tracking-numbers", "create")
def _create_tracking_number_for_foreign_campaign(client, acme, rival):
    response = client.post(
        f"{API}/tracking-numbers/",
        {"number": "+18885550177", "campaign": acme.campaign.pk, "publisher": acme.publisher.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "campaign": [f'Invalid pk "{acme.campaign.pk}" - object does not exist.'],
        "publisher": [f'Invalid pk "{acme.publisher.pk}" - object does not exist.'],
    }
    return response


@attack("ad-spend", "create")
def _create_ad_spend_for_foreign_campaign(client, acme, rival):
    response = client.post(
        f"{API}/ad-spend/",
        {
            "campaign": acme.campaign.pk,
            "publisher": acme.publisher.pk,
            "day": "2026-11-09",
            "amount": "5",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"campaign", "publisher"}
    return response


@attack("calls", "create")
def _create_call_naming_foreign_rows(client, acme, rival):
    base = {"started_at": "2026-11-02T15:00:00Z", "status": "answered"}
    batch = [
        {**base, "external_id": "r1", "campaign_id": acme.campaign.pk},
        {
            **base,
            "external_id": "r2",
            "campaign_id": rival.campaign.pk,
            "publisher_id": acme.publisher.pk,
            "buyer_id": acme.buyer.pk,
        },
        {**base, "external_id": "r3", "tracking_number": acme.tracking.number},
    ]
    response = client.post(f"{API}/calls/", batch, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["0"] == {"campaign_id": [f"No campaign with id {acme.campaign.pk}."]}
    assert set(errors["1"]) == {"publisher_id", "buyer_id"}
    assert set(errors["2"]) == {"campaign"}
    return response


@attack("calls", "conversion")
def _record_conversion_of_foreign_call(client, acme, rival):
    response = client.post(
        f"{API}/calls/{acme.call.external_id}/conversion/",
        {"converted": True, "revenue": "999"},
        format="json",
    )
    assert response.status_code == 404
    return response


@attack("calls", "export")
def _export_calls_naming_foreign_rows(client, acme, rival):
    content = b""
    for query in ("", f"?publisher={acme.publisher.pk}", f"?campaign={acme.campaign.pk}"):
        response = client.get(f"{API}/calls/export.csv{query}")
        assert response.status_code == 200
        content += b"".join(response.streaming_content)
    assert content.count(rival.call.external_id.encode()) == 1  # the unfiltered export
    return SimpleNamespace(status_code=200, content=content)


@attack("imports", "create")
def _import_rows_naming_foreign_campaign(client, acme, rival):
    csv = (
        "external_id,started_at,status,campaign_id\n"
        f"r-import-1,2026-11-02T15:00:00Z,answered,{acme.campaign.pk}\n"
    )
    upload = SimpleUploadedFile("rows.csv", csv.encode(), content_type="text/csv")
    response = client.post(
        f"{API}/imports/", {"file": upload, "format": "native"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["rows_imported"] == 0
    assert not Call.objects.filter(external_id="r-import-1").exists()
    return response


def _kpi_read(prefix: str):
    def read(client, acme, rival):
        for organization in (acme.call.organization, rival.call.organization):
            rollups_rebuild(organization)
        window = {"date_from": "2026-10-01", "date_to": "2026-11-30"}
        own = client.get(f"{API}/{prefix}/", window)
        assert own.status_code == 200, own.json()
        if prefix == "kpis":
            assert own.json()["totals"]["calls"] == 1  # the rival's own call, not Acme's
        foreign = client.get(
            f"{API}/{prefix}/",
            {**window, "campaign": acme.campaign.pk, "publisher": acme.publisher.pk},
        )
        assert foreign.status_code == 200
        if prefix == "kpis":
            assert foreign.json()["totals"]["calls"] == 0
        grouped = client.get(f"{API}/{prefix}/", {**window, "group_by": "campaign"})
        assert MARKER not in grouped.content.decode().lower()
        return foreign

    return read


for _prefix in ("kpis", "verdicts", "qualifying-thresholds", "reallocation"):
    attack(_prefix, "list")(_kpi_read(_prefix))


@attack("webhook-endpoints", "create")
def _create_webhook_endpoint(client, acme, rival):
    response = client.post(
        f"{API}/webhook-endpoints/",
        {"name": acme.endpoint.name, "url": "https://rival.example.com/other"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = WebhookEndpoint.objects.get(pk=response.json()["id"])
    assert created.organization.slug == "rival" and created.secret != acme.endpoint.secret
    return SimpleNamespace(status_code=201, content=b"")


@attack("webhook-endpoints", "rotate_secret")
def _rotate_foreign_secret(client, acme, rival):
    response = client.post(f"{API}/webhook-endpoints/{acme.endpoint.pk}/rotate-secret/")
    assert response.status_code == 404
    return response


@attack("webhook-endpoints", "test")
def _test_event_to_foreign_endpoint(client, acme, rival):
    response = client.post(f"{API}/webhook-endpoints/{acme.endpoint.pk}/test/")
    assert response.status_code == 404
    return response


@attack("webhook-deliveries", "redeliver")
def _redeliver_foreign_delivery(client, acme, rival):
    response = client.post(f"{API}/webhook-deliveries/{acme.delivery.pk}/redeliver/")
    assert response.status_code == 404
    filtered = client.get(f"{API}/webhook-deliveries/", {"endpoint": acme.endpoint.pk})
    assert filtered.status_code == 400
    return response


@attack("alert-rules", "create")
def _create_alert_rule_for_foreign_campaign(client, acme, rival):
    response = client.post(
        f"{API}/alert-rules/",
        {"kind": "missed_call_rate", "campaign": acme.campaign.pk},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"campaign"}
    return response


@attack("routing-plans", "create")
def _create_plan_with_foreign_campaign_or_buyer(client, acme, rival):
    # A new version of Acme's plan, and Rival's plan naming Acme's buyer: neither exists for
    # Rival, and both say so without naming what Acme has.
    for campaign, buyer in ((acme.campaign, rival.buyer), (rival.campaign, acme.buyer)):
        response = client.post(
            f"{API}/routing-plans/",
            {"campaign": campaign.pk, "targets": [{"buyer": buyer.pk, "tier": 1, "weight": 1}]},
            format="json",
        )
        assert response.status_code == 400, response.json()
        assert MARKER not in response.content.decode().lower()
    assert RoutingPlan.objects.filter(campaign=acme.campaign).count() == 1
    return response


@attack("route", "create")
def _route_a_foreign_campaign_or_number(client, acme, rival):
    for body in (
        {"campaign": acme.campaign.pk, "caller_number": "+13125550100", "call_id": "CA-rival"},
        {"tracking_number": acme.tracking.number, "caller_number": "+13125550100"},
    ):
        response = client.post(f"{API}/route", body, format="json")
        assert response.status_code == 400, response.json()
        assert MARKER not in response.content.decode().lower()
    return response


@attack("coverage", "list")
def _coverage_of_a_foreign_campaign(client, acme, rival):
    response = client.get(f"{API}/coverage", {"campaign": acme.campaign.pk})
    assert response.status_code == 400
    return response


@attack("what-if", "create")
def _what_if_of_a_foreign_campaign_or_with_a_foreign_buyer(client, acme, rival):
    for campaign, buyer, field in (
        (acme.campaign, rival.buyer, "campaign"),
        (rival.campaign, acme.buyer, "add_targets[0].buyer"),
    ):
        response = client.post(
            f"{API}/what-if",
            {"campaign": campaign.pk, "add_targets": [{"buyer": buyer.pk}]},
            format="json",
        )
        assert response.status_code == 400, response.json()
        assert list(response.json()["errors"]) == [field], response.json()
        assert MARKER not in response.content.decode().lower()
    return response


@attack("alerts", "acknowledge")
def _acknowledge_foreign_alert(client, acme, rival):
    response = client.post(f"{API}/alerts/{acme.incident.pk}/acknowledge")
    assert response.status_code == 404
    return response


@attack("follow-up-rules", "create")
def _create_rule_for_foreign_campaign(client, acme, rival):
    response = client.post(f"{API}/follow-up-rules/", {"campaign": acme.campaign.pk}, format="json")
    assert response.status_code == 400
    assert "campaign" in response.json()["errors"]
    return response


for _action in ("contacted", "recovered", "lost"):

    def _mark_foreign_followup(client, acme, rival, action=_action):
        body = {"revenue": "1"} if action == "recovered" else {}
        response = client.post(f"{API}/follow-ups/{acme.followup.pk}/{action}", body, format="json")
        assert response.status_code == 404
        filtered = client.get(f"{API}/follow-ups/", {"campaign": acme.campaign.pk})
        assert filtered.status_code == 200 and filtered.json()["results"] == []
        return response

    attack("follow-ups", _action)(_mark_foreign_followup)


# --- The tests -----------------------------------------------------------------------------


def _api_url_patterns(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_url_patterns(pattern.url_patterns)
        else:
            yield pattern


def registered_api_actions() -> set[tuple[str, str]]:
    """(router prefix, action) of every URL under /api/v1/, read from the URL patterns."""
    prefixes = {viewset: prefix for prefix, viewset, _ in router.registry}
    actions = set()
    for pattern in _api_url_patterns(get_resolver("ppc_dashboard.api_urls").url_patterns):
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is not None and view_class.__name__ == "APIRootView":  # links only
            continue
        assert view_class in prefixes, f"{pattern.pattern} is not a router viewset"
        actions.update((prefixes[view_class], a) for a in pattern.callback.actions.values())
    return actions


@attack("calls", "destroy")
def _delete_foreign_call(client, acme, rival):
    response = client.delete(f"{API}/calls/{acme.call.external_id}/")
    assert response.status_code == 404
    assert Call.objects.filter(pk=acme.call.pk).exists()
    return response


@attack("imports", "errors_csv")
def _errors_csv_of_foreign_import(client, acme, rival):
    response = client.get(f"{API}/imports/{acme.call_import.pk}/errors.csv")
    assert response.status_code == 404
    return response


def test_every_api_endpoint_has_an_isolation_test():
    assert registered_api_actions() == set(ATTACKS)


@pytest.mark.parametrize("endpoint", sorted(ATTACKS), ids=lambda e: f"{e[0]}:{e[1]}")
def test_other_tenant_key_neither_sees_nor_changes_a_tenants_rows(
    endpoint, org, other_api_client, acme, rival
):
    before = tenant_rows(org)
    response = ATTACKS[endpoint](other_api_client, acme, rival)
    assert MARKER not in response.content.decode().lower()
    assert tenant_rows(org) == before


@pytest.mark.parametrize(
    "prefix, attr, param",
    [
        ("calls", "campaign", "campaign"),
        ("calls", "publisher", "publisher"),
        ("calls", "buyer", "buyer"),
        ("tracking-numbers", "campaign", "campaign"),
        ("tracking-numbers", "publisher", "publisher"),
        ("ad-spend", "campaign", "campaign"),
        ("ad-spend", "publisher", "publisher"),
    ],
)
def test_list_filter_by_another_tenants_id_answers_like_a_missing_id(
    prefix, attr, param, other_api_client, acme, rival
):
    foreign_id = getattr(acme, attr).pk
    missing_id = foreign_id + 10_000
    foreign = other_api_client.get(f"{API}/{prefix}/?{param}={foreign_id}")
    missing = other_api_client.get(f"{API}/{prefix}/?{param}={missing_id}")
    assert foreign.status_code == missing.status_code
    assert foreign.content.replace(str(foreign_id).encode(), b"ID") == missing.content.replace(
        str(missing_id).encode(), b"ID"
    )
    assert MARKER not in foreign.content.decode()


@pytest.mark.parametrize(
    "prefix, attr, body",
    [
        ("tracking-numbers", "tracking", lambda acme: {"campaign": acme.campaign.pk}),
        ("tracking-numbers", "tracking", lambda acme: {"publisher": acme.publisher.pk}),
        ("ad-spend", "ad_spend", lambda acme: {"campaign": acme.campaign.pk}),
        ("ad-spend", "ad_spend", lambda acme: {"publisher": acme.publisher.pk}),
    ],
)
def test_own_row_cannot_be_pointed_at_another_tenants_row(
    prefix, attr, body, org, other_org, other_api_client, acme, rival
):
    before = tenant_rows(org), tenant_rows(other_org)
    response = other_api_client.patch(
        _detail(prefix, getattr(rival, attr).pk), body(acme), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(body(acme))
    assert (tenant_rows(org), tenant_rows(other_org)) == before


def test_session_member_reads_only_their_organizations_rows(make_member_client, other_org, acme):
    client = make_member_client(other_org, Role.VIEWER)
    response = client.get(f"{API}/calls/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert client.get(_detail("campaigns", acme.campaign.pk)).status_code == 404


# --- Pages ---------------------------------------------------------------------------------


def test_call_page_of_another_tenant_is_404(make_member_client, other_org, acme):
    client = make_member_client(other_org, Role.OWNER)
    assert client.get(f"/calls/{acme.call.pk}/").status_code == 404


def test_call_list_page_shows_only_own_calls(make_member_client, other_org, acme, rival):
    client = make_member_client(other_org, Role.VIEWER)
    response = client.get("/calls/")  # "/" is the overview now; its isolation: test_pages
    assert response.status_code == 200
    assert rival.call.caller_region in response.content.decode()
    assert MARKER not in response.content.decode()


def test_call_export_page_holds_only_own_calls(make_member_client, other_org, acme, rival):
    client = make_member_client(other_org, Role.VIEWER)
    for query in ("", f"?publisher={acme.publisher.pk}", f"?buyer={acme.buyer.pk}"):
        response = client.get(f"/calls/export.csv{query}")
        assert response.status_code == 200
        content = b"".join(response.streaming_content).decode()
        assert MARKER not in content
        assert (rival.call.external_id in content) == (query == "")


@pytest.fixture
def two_org_client(make_member_client, org, other_org, acme, rival):
    from tests.factories import MembershipFactory

    client = make_member_client(org, Role.VIEWER)
    MembershipFactory(organization=other_org, user=client.user, role=Role.VIEWER)
    return client


def _calls_page(client) -> str:
    response = client.get("/calls/")
    assert response.status_code == 200
    return response.content.decode()


def test_member_of_two_organizations_sees_only_the_current_ones_calls(two_org_client, acme):
    page = _calls_page(two_org_client)
    assert MARKER in page  # Acme Calls sorts before Rival Media: the default organization
    assert "rival-region" not in page
    assert two_org_client.get(f"/calls/{acme.call.pk}/").status_code == 200


def test_switcher_moves_the_session_to_the_other_organization(
    two_org_client, other_org, acme, rival
):
    response = two_org_client.post(
        "/switch/", {"organization": other_org.pk, "next": "/calls/?status=answered"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/calls/?status=answered"
    page = _calls_page(two_org_client)
    assert rival.call.caller_region in page
    assert MARKER not in page
    assert two_org_client.get(f"/calls/{acme.call.pk}/").status_code == 404
    assert two_org_client.get(f"/calls/{rival.call.pk}/").status_code == 200
    api_calls = two_org_client.get(f"{API}/calls/").json()["results"]
    assert [c["external_id"] for c in api_calls] == [rival.call.external_id]


def test_switcher_is_shown_to_a_member_of_two_organizations(two_org_client, org, other_org):
    page = _calls_page(two_org_client)
    assert 'action="/switch/"' in page
    assert f'value="{other_org.pk}"' in page


def test_switch_into_an_organization_without_membership_is_refused(two_org_client):
    outsider = OrganizationFactory(name="Outsider")
    CallFactory(organization=outsider, caller_region="outsider-region")
    response = two_org_client.post("/switch/", {"organization": outsider.pk, "next": "/calls/"})
    assert response.status_code == 302
    page = _calls_page(two_org_client)
    assert "not a member of that organization" in page
    assert MARKER in page  # still in Acme
    assert "outsider-region" not in page


def test_switch_does_not_redirect_off_site(two_org_client, other_org):
    response = two_org_client.post(
        "/switch/", {"organization": other_org.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_switch_needs_a_post(two_org_client, other_org):
    assert two_org_client.get(f"/switch/?organization={other_org.pk}").status_code == 405
