"""The call log page: filters (campaign, publisher, buyer, status, days), pagination, and the
live refresh of its rows (`?partial=1`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import BuyerFactory, CallFactory, CampaignFactory, PublisherFactory

T0 = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def log(org):
    """Two publishers and two buyers of one campaign, one call per pair, a minute apart."""
    campaign = CampaignFactory(organization=org, name="Auto leads")
    pub_a = PublisherFactory(organization=org, name="Pub A")
    pub_b = PublisherFactory(organization=org, name="Pub B")
    buyer_x = BuyerFactory(organization=org, name="Buyer X")
    buyer_y = BuyerFactory(organization=org, name="Buyer Y")
    calls = {}
    for minute, (publisher, buyer) in enumerate(
        [(pub_a, buyer_x), (pub_a, buyer_y), (pub_b, buyer_x), (pub_b, buyer_y)]
    ):
        name = f"{publisher.name[-1]}{buyer.name[-1]}".lower()
        calls[name] = CallFactory(
            organization=org,
            external_id=f"call-{name}",
            campaign=campaign,
            publisher=publisher,
            buyer=buyer,
            caller_region=f"region-{name}",
            started_at=T0 + dt.timedelta(minutes=minute),
        )
    return type(
        "Log",
        (),
        {"campaign": campaign, "pub_a": pub_a, "pub_b": pub_b, "x": buyer_x, "y": buyer_y, **calls},
    )


def regions(page: str) -> list[str]:
    """The caller regions of the rows, in page order (each row names its call's region)."""
    found = []
    for piece in page.split("region-")[1:]:
        found.append(piece[:2])
    return found


def test_call_log_lists_newest_first(member_client, log):
    response = member_client.get("/calls/")
    assert response.status_code == 200
    assert regions(text(response)) == ["by", "bx", "ay", "ax"]


def test_call_log_has_publisher_and_buyer_filters_of_the_tenant(member_client, log, other_org):
    PublisherFactory(organization=other_org, name="Rival publisher")
    BuyerFactory(organization=other_org, name="Rival buyer")
    page = text(member_client.get("/calls/"))
    assert '<select name="publisher">' in page and '<select name="buyer">' in page
    assert f'<option value="{log.pub_a.pk}" >Pub A</option>' in page
    assert f'<option value="{log.y.pk}" >Buyer Y</option>' in page
    assert "Rival publisher" not in page and "Rival buyer" not in page


@pytest.mark.parametrize(
    "query,expected",
    [
        ("publisher={pub_a}", ["ay", "ax"]),
        ("buyer={x}", ["bx", "ax"]),
        ("publisher={pub_b}&buyer={y}", ["by"]),
        ("campaign={campaign}&publisher={pub_b}", ["by", "bx"]),
    ],
)
def test_publisher_and_buyer_filters_narrow_the_log(member_client, log, query, expected):
    query = query.format(
        pub_a=log.pub_a.pk, pub_b=log.pub_b.pk, x=log.x.pk, y=log.y.pk, campaign=log.campaign.pk
    )
    response = member_client.get(f"/calls/?{query}")
    assert regions(text(response)) == expected


def test_selected_filters_stay_selected(member_client, log):
    page = text(member_client.get(f"/calls/?publisher={log.pub_b.pk}&buyer={log.x.pk}"))
    assert f'<option value="{log.pub_b.pk}" selected>Pub B</option>' in page
    assert f'<option value="{log.x.pk}" selected>Buyer X</option>' in page


def test_filter_by_another_tenants_publisher_shows_no_calls(member_client, log, other_org):
    rival = PublisherFactory(organization=other_org)
    CallFactory(organization=other_org, publisher=rival, caller_region="region-zz")
    page = text(member_client.get(f"/calls/?publisher={rival.pk}"))
    assert regions(page) == []
    assert "No calls match these filters." in page


def test_bad_filter_value_is_reported(member_client, log):
    page = text(member_client.get("/calls/?buyer=abc"))
    assert "<strong>buyer</strong>: Enter a whole number." in page


# --- Live refresh ------------------------------------------------------------------------------


def test_partial_returns_only_the_rows(member_client, log):
    response = member_client.get("/calls/?partial=1")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<tr>") == 4
    for absent in ["<html", "<form", "<table", "<thead", "<tbody", "<script", "pager"]:
        assert absent not in page
    assert regions(page) == ["by", "bx", "ay", "ax"]
    assert f'href="/calls/{log.by.pk}/"' in page


def test_partial_respects_the_filters(member_client, log):
    query = f"publisher={log.pub_a.pk}&buyer={log.y.pk}&status=answered"
    page = text(member_client.get(f"/calls/?{query}&partial=1"))
    assert regions(page) == ["ay"]
    assert page.count("<tr>") == 1


def test_partial_shows_new_calls(member_client, log, org):
    before = text(member_client.get("/calls/?partial=1"))
    CallFactory(
        organization=org,
        campaign=log.campaign,
        publisher=log.pub_a,
        buyer=log.x,
        caller_region="region-nw",
        started_at=T0 + dt.timedelta(hours=1),
    )
    after = text(member_client.get("/calls/?partial=1"))
    assert regions(before)[0] == "by"
    assert regions(after)[0] == "nw"


def test_partial_with_no_match_says_so(member_client, log):
    page = text(member_client.get("/calls/?partial=1&status=failed"))
    assert page.count("<tr>") == 1
    assert "No calls match these filters." in page


def test_partial_shows_only_own_calls(make_member_client, other_org, log):
    from ppc_dashboard.tenancy.models import Role

    client = make_member_client(other_org, Role.VIEWER)
    CallFactory(organization=other_org, caller_region="region-rv")
    page = text(client.get("/calls/?partial=1"))
    assert regions(page) == ["rv"]


def test_partial_needs_a_login(db):
    response = Client().get("/calls/?partial=1")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


LIVE_LOG_SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "call_log.js"


def test_first_page_refreshes_itself(member_client, log):
    page = text(member_client.get(f"/calls/?publisher={log.pub_a.pk}"))
    assert 'id="call-rows"' in page
    assert '<script src="/static/js/call_log.js" defer>' in page
    script = LIVE_LOG_SCRIPT.read_text()
    assert 'searchParams.set("partial", "1")' in script
    assert "setInterval(refresh, 5000)" in script
    assert "document.hidden" in script


def test_older_pages_do_not_refresh(member_client, org, log, monkeypatch):
    monkeypatch.setattr("calls.views.CallListView.paginate_by", 2)
    first = text(member_client.get("/calls/"))
    second = text(member_client.get("/calls/?page=2"))
    assert "js/call_log.js" in first
    assert "js/call_log.js" not in second
    assert regions(second) == ["ay", "ax"]


def test_pagination_keeps_the_filters(member_client, org, log, monkeypatch):
    monkeypatch.setattr("calls.views.CallListView.paginate_by", 1)
    page = text(member_client.get(f"/calls/?buyer={log.x.pk}"))
    assert regions(page) == ["bx"]
    assert f'href="?buyer={log.x.pk}&page=2"' in page
    second = text(member_client.get(f"/calls/?buyer={log.x.pk}&page=2"))
    assert regions(second) == ["ax"]
    assert "Page 2 of 2" in second


def test_the_log_reads_a_fixed_number_of_queries_however_many_rows(member_client, org, log):
    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(url).status_code == 200
        return len(captured)

    before = {url: queries(url) for url in ("/calls/", "/calls/?partial=1")}
    for _ in range(5):
        CallFactory(
            organization=org,
            campaign=CampaignFactory(organization=org),
            publisher=PublisherFactory(organization=org),
            buyer=BuyerFactory(organization=org),
        )
    assert {url: queries(url) for url in before} == before


def test_empty_log_explains_how_to_get_calls(member_client):
    page = text(member_client.get("/calls/"))
    assert "No calls yet" in page
    assert "/api/v1/calls/" in page


def test_call_detail_shows_the_call(member_client, log):
    response = member_client.get(f"/calls/{log.ax.pk}/")
    assert response.status_code == 200
    assert "call-ax" in text(response)
    assert "Pub A" in text(response) and "Buyer X" in text(response)


def test_call_detail_of_another_tenant_is_404(member_client, other_org):
    call = CallFactory(organization=other_org)
    assert member_client.get(f"/calls/{call.pk}/").status_code == 404


# --- Times in the tenant's zone -----------------------------------------------------------

INSTANT = dt.datetime(2026, 11, 2, 15, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "zone,local",
    [("America/New_York", "2026-11-02 10:04:05"), ("Asia/Kolkata", "2026-11-02 20:34:05")],
)
def test_call_log_shows_times_in_the_zone_its_header_names(member_client, org, zone, local):
    org.timezone = zone
    org.save()
    CallFactory(organization=org, started_at=INSTANT)
    page = text(member_client.get("/calls/"))
    assert f"Started ({zone})" in page
    assert local in page
    assert "15:04:05" not in page


def test_live_refresh_rows_show_local_times(member_client, org):
    CallFactory(organization=org, started_at=INSTANT)
    page = text(member_client.get("/calls/?partial=1"))
    assert "2026-11-02 10:04:05" in page
    assert "15:04" not in page


def test_call_detail_shows_local_times_with_the_zone(member_client, org):
    call = CallFactory(
        organization=org,
        started_at=INSTANT,
        converted=True,
        converted_at=INSTANT + dt.timedelta(hours=1),
    )
    page = text(member_client.get(f"/calls/{call.pk}/"))
    assert "2026-11-02 10:04:05 EST (America/New_York)" in page
    assert "2026-11-02 11:04" in page
    assert "15:04" not in page and "16:04" not in page
