"""The setup screens obey the API's rules: the same bad input gets the same message on both
paths (one rule underneath), readers read and never write, and a delete that calls still
reference is refused on the screen as the API refuses it (409), deleting nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest

from calls.models import AdSpend, Campaign
from ppc_dashboard.tenancy.models import Role
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    PublisherFactory,
    TrackingNumberFactory,
)

API = "/api/v1"


def text(response) -> str:
    return unescape(response.content.decode())


def field_errors(response) -> list[str]:
    """The messages of a form page's error lists, as a person reads them."""
    lists = re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    messages = []
    for block in lists:
        messages += [unescape(m) for m in re.findall(r"<li>(.*?)</li>", block, re.S)]
    grid = re.findall(r'<span class="error">(.*?)</span>', response.content.decode(), re.S)
    return messages + [unescape(m) for m in grid]


def api_message(response, field: str) -> str:
    assert response.status_code == 400, response.content
    return response.json()["errors"][field][0]


BUYER_FORM = {"name": "Center", "phone_number": "", "timezone": "America/Chicago"}


@pytest.mark.parametrize(
    "case",
    [
        "campaign name taken",
        "publisher name taken",
        "publisher external id taken",
        "buyer name taken",
        "buyer phone number",
        "buyer hours close before open",
        "tracking number taken after normalization",
        "tracking number not a phone number",
        "tracking number of another tenant's campaign",
        "ad spend for another tenant's campaign",
        "ad spend negative",
    ],
)
def test_the_same_bad_input_gets_the_same_message_from_the_api_and_the_screen(
    api_client, member_client, org, other_org, case
):
    campaign = CampaignFactory(organization=org, name="Auto")
    PublisherFactory(organization=org, name="Star", external_id="sub-7")
    BuyerFactory(organization=org, name="Taken")
    TrackingNumberFactory(organization=org, number="+18885550123", campaign=campaign)
    rival = CampaignFactory(organization=other_org, name="Rival")
    if case == "campaign name taken":
        api = api_client.post(f"{API}/campaigns/", {"name": "Auto"}, format="json")
        page = member_client.post(
            "/settings/campaigns/new/",
            {
                "name": "Auto",
                "vertical": "other",
                "qualifying_seconds": 90,
                "payout": "0",
                "duplicate_window_days": 30,
                "status": "active",
            },
        )
        field = "name"
    elif case.startswith("publisher"):
        field = "name" if "name" in case else "external_id"
        body = {"name": "Star" if field == "name" else "Moon", "external_id": "sub-7"}
        if field == "name":
            body["external_id"] = ""
        api = api_client.post(f"{API}/publishers/", body, format="json")
        page = member_client.post("/settings/publishers/new/", body)
    elif case.startswith("buyer"):
        body = {"name": "Center"}
        form = {**BUYER_FORM, "hours_mode": "always"}
        if case == "buyer name taken":
            field, body["name"], form["name"] = "name", "Taken", "Taken"
        elif case == "buyer phone number":
            field = "phone_number"
            body["phone_number"] = form["phone_number"] = "12"
        else:
            field = "business_hours"
            body["business_hours"] = {"mon": [["17:00", "09:00"]]}
            form.update(hours_mode="weekly", hours_mon_1_open="17:00", hours_mon_1_close="09:00")
        api = api_client.post(f"{API}/buyers/", body, format="json")
        page = member_client.post("/settings/buyers/new/", form)
    elif case.startswith("tracking number"):
        field = "number" if "campaign" not in case else "campaign"
        number = {"tracking number not a phone number": "call me"}.get(case, "(888) 555-0123")
        chosen = rival.pk if field == "campaign" else campaign.pk
        api = api_client.post(
            f"{API}/tracking-numbers/", {"number": number, "campaign": chosen}, format="json"
        )
        tracking = TrackingNumberFactory(organization=org, number="+18885550999", campaign=campaign)
        page = member_client.post(
            f"/settings/tracking-numbers/{tracking.pk}/", {"number": number, "campaign": chosen}
        )
    else:
        field = "campaign" if "campaign" in case else "amount"
        chosen = rival.pk if field == "campaign" else campaign.pk
        amount = "-5" if field == "amount" else "5"
        api = api_client.post(
            f"{API}/ad-spend/",
            {"campaign": chosen, "day": "2026-11-02", "amount": amount},
            format="json",
        )
        page = member_client.post(
            "/settings/ad-spend/",
            {"campaign": chosen, "start": "2026-11-02", "amount_2026-11-02": amount},
        )
    message = api_message(api, field)
    assert page.status_code == 200  # the form again, not a redirect: nothing was saved
    assert message in field_errors(page)


def test_the_screens_wrote_nothing_for_bad_input(member_client, org):
    CampaignFactory(organization=org, name="Auto")
    member_client.post("/settings/campaigns/new/", {"name": "Auto", "vertical": "other"})
    member_client.post("/settings/publishers/new/", {"name": ""})
    member_client.post("/settings/buyers/new/", {**BUYER_FORM, "phone_number": "12"})
    assert Campaign.objects.count() == 1
    assert not Publisher.objects.exists()
    assert not Buyer.objects.exists()


# --- Readers read, writers write -----------------------------------------------------------

SETUP_LISTS = [
    "/settings/campaigns/",
    "/settings/publishers/",
    "/settings/buyers/",
    "/settings/tracking-numbers/",
    "/settings/ad-spend/",
    "/settings/ad-spend/upload/",
]


@pytest.fixture
def setup_rows(org):
    spend = AdSpendFactory(organization=org)
    return {
        "campaigns": spend.campaign,
        "publishers": PublisherFactory(organization=org),
        "buyers": BuyerFactory(organization=org, business_hours={"mon": [["09:00", "17:00"]]}),
        "tracking-numbers": TrackingNumberFactory(organization=org, campaign=spend.campaign),
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_readers_see_every_setup_screen_without_its_forms(
    org, make_member_client, setup_rows, role
):
    client = make_member_client(org, role)
    pages = [*SETUP_LISTS, *(f"/settings/{kind}/{row.pk}/" for kind, row in setup_rows.items())]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        main = text(response).split("<main>", 1)[1]
        assert 'method="post"' not in main, url
        assert "only owners and managers can change them" in text(response), url


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_readers_cannot_create_change_or_delete(org, make_member_client, setup_rows, role):
    client = make_member_client(org, role)
    before = {
        model: list(model.objects.order_by("pk").values())
        for model in (Campaign, Publisher, Buyer, TrackingNumber, AdSpend)
    }
    for kind in ("campaigns", "publishers", "buyers"):
        assert client.get(f"/settings/{kind}/new/").status_code == 403
        assert client.post(f"/settings/{kind}/new/", {"name": "X"}).status_code == 403
    for kind, row in setup_rows.items():
        assert client.post(f"/settings/{kind}/{row.pk}/", {"name": "X"}).status_code == 403
        assert client.get(f"/settings/{kind}/{row.pk}/delete/").status_code == 403
        assert client.post(f"/settings/{kind}/{row.pk}/delete/").status_code == 403
    campaign = setup_rows["campaigns"]
    assert (
        client.post("/settings/tracking-numbers/", {"numbers": "+18885550100"}).status_code == 403
    )
    grid = {"campaign": campaign.pk, "start": "2026-11-02", "amount_2026-11-02": "1"}
    assert client.post("/settings/ad-spend/", grid).status_code == 403
    assert client.post("/settings/ad-spend/upload/", {}).status_code == 403
    after = {
        model: list(model.objects.order_by("pk").values())
        for model in (Campaign, Publisher, Buyer, TrackingNumber, AdSpend)
    }
    assert after == before


def test_another_tenants_objects_are_404_on_the_screens(member_client, other_org):
    spend = AdSpendFactory(organization=other_org)
    rows = {
        "campaigns": spend.campaign,
        "publishers": PublisherFactory(organization=other_org),
        "buyers": BuyerFactory(organization=other_org),
        "tracking-numbers": TrackingNumberFactory(organization=other_org, campaign=spend.campaign),
    }
    for kind, row in rows.items():
        assert member_client.get(f"/settings/{kind}/{row.pk}/").status_code == 404
        assert member_client.post(f"/settings/{kind}/{row.pk}/delete/").status_code == 404


# --- Deleting what calls still reference ---------------------------------------------------


@pytest.mark.parametrize("kind", ["campaigns", "publishers", "buyers"])
def test_deleting_what_calls_reference_is_refused_on_the_screen_as_by_the_api(
    api_client, member_client, org, kind
):
    call = CallFactory(organization=org)
    row = {"campaigns": call.campaign, "publishers": call.publisher, "buyers": call.buyer}[kind]
    api = api_client.delete(f"{API}/{kind}/{row.pk}/")
    assert api.status_code == 409
    page = member_client.post(f"/settings/{kind}/{row.pk}/delete/", follow=True)
    assert api.json()["detail"] in text(page)
    assert "Call" in api.json()["detail"]
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("kind", ["campaigns", "publishers", "buyers", "tracking-numbers"])
def test_deleting_an_unused_object_on_the_screen_deletes_it(member_client, org, kind):
    row = {
        "campaigns": lambda: CampaignFactory(organization=org),
        "publishers": lambda: PublisherFactory(organization=org),
        "buyers": lambda: BuyerFactory(organization=org),
        "tracking-numbers": lambda: TrackingNumberFactory(organization=org),
    }[kind]()
    response = member_client.post(f"/settings/{kind}/{row.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == f"/settings/{kind}/"
    assert not type(row).objects.filter(pk=row.pk).exists()


def test_setup_screens_run_under_a_strict_content_security_policy(member_client, setup_rows):
    # No inline script or style: what the screens need is in static/js and static/css.
    pages = [
        *SETUP_LISTS,
        "/settings/",
        "/settings/campaigns/new/",
        "/settings/publishers/new/",
        "/settings/buyers/new/",
        *(f"/settings/{kind}/{row.pk}/" for kind, row in setup_rows.items()),
        *(f"/settings/{kind}/{row.pk}/delete/" for kind, row in setup_rows.items()),
    ]
    for url in pages:
        main = text(member_client.get(url)).split("<main>", 1)[1]
        assert "<script" not in main, url
        assert " style=" not in main, url
        assert not re.search(r"\son[a-z]+=", main), url
