"""The publisher page (`/publishers/<id>/`): the publisher seen whole, as issue 11 asks: every
KPI with profit, ROI, repeat and short-call rates, the trend, its verdict overall and per
campaign with the reasons in view, spike hours in local time, its calls and its campaigns."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from kpis.models import VelocitySpike
from kpis.pages.page_data import PUBLISHER_TILES
from kpis.rollups import rollups_rebuild
from tests.factories import CampaignFactory, PublisherFactory
from tests.kpis.pages.traffic import (
    WEEK,
    WEEK_FILTER,
    _calls,
    expected_tiles,
    page,
    tiles,
)


def star_url(traffic) -> str:
    return f"/publishers/{traffic['star'].pk}/"


def test_publisher_page_tiles_equal_the_selector_for_that_publisher(member_client, org, traffic):
    html = page(member_client, star_url(traffic), **WEEK)
    star_filter = replace(WEEK_FILTER, publisher_id=traffic["star"].pk)
    assert tiles(html) == expected_tiles(org, star_filter, PUBLISHER_TILES)
    shown = tiles(html)
    # 40 calls, 12 converted at 40.00 = 480.00 revenue, 40 x 5.00 = 200.00 spend
    assert shown["profit"][0] == "$280.00"
    assert shown["roi"][0] == "140.0%"
    assert {"repeat_rate", "short_call_rate"} <= set(shown)


def test_publisher_page_shows_its_verdicts_with_reasons_in_view(member_client, traffic):
    html = page(member_client, star_url(traffic), **WEEK)
    heading = html[html.index("<h1>") : html.index("</h1>")]
    assert 'class="badge scale"' in heading
    reasons = html[html.index('aria-label="Why"') :]
    reasons = reasons[: reasons.index("</ul>")]
    assert "conversion 30.0% over 40 calls" in reasons
    assert "returns 140% ROI ($280 profit)" in reasons
    # Per campaign, by the campaign's thresholds, and not folded away in a <details>.
    campaigns = html[html.index('id="publisher-campaigns"') :]
    row = campaigns[campaigns.index(f'data-campaign="{traffic["campaign"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Auto" in row and 'class="badge' in row and "conversion 30.0%" in row
    assert "<details" not in row


def test_publisher_page_lists_the_campaigns_it_sends_to(member_client, org, traffic):
    home = CampaignFactory(organization=org, name="Home repair", vertical="home_services")
    _calls(org, home, traffic["star"], traffic["buyer"], count=5, converted=1, missed=0)
    rollups_rebuild(org)
    html = page(member_client, star_url(traffic), **WEEK)
    campaigns = html[html.index('id="publisher-campaigns"') :]
    # Busiest first: 40 calls to Auto, 5 to Home repair (too few to judge there).
    assert campaigns.index(">Auto<") < campaigns.index(">Home repair<")
    assert "too few calls to judge: 5 of the 30 needed" in campaigns


def test_publisher_page_links_to_the_calls_it_sent(member_client, traffic):
    html = page(member_client, star_url(traffic), **WEEK)
    link = re.search(r'href="/calls/\?([^"]+)"', html)
    assert link is not None
    query = link.group(1).replace("&amp;", "&")
    assert f"publisher={traffic['star'].pk}" in query
    assert "date_from=2026-11-01" in query and "date_to=2026-11-07" in query
    # The call log answers that link with this publisher's calls only.
    calls = page(member_client, "/calls/", **dict(pair.split("=") for pair in query.split("&")))
    assert "Weak" not in calls.split("<tbody", 1)[1]


def test_publisher_page_lists_spike_hours_in_local_time(member_client, org, traffic):
    VelocitySpike.objects.create(
        organization=org,
        day=dt.date(2026, 11, 3),
        hour=14,
        publisher=traffic["star"],
        campaign=None,
        calls=12,
        trailing_calls=7,
    )
    html = page(member_client, star_url(traffic), **WEEK)
    spikes = html[html.index('id="spike-hours"') :]
    assert "Tue Nov 3, 14:00" in spikes
    assert "America/New_York" in spikes
    assert "1 velocity-spike hour (Nov 3 14:00) holds 12 calls" in html


def test_every_publisher_name_links_to_its_page(member_client, traffic):
    star_link = f'href="/publishers/{traffic["star"].pk}/'
    for url in ("/", "/publishers/", f"/campaigns/{traffic['campaign'].pk}/"):
        assert star_link in page(member_client, url, **WEEK), url
    # The call log and a call's detail link it too.
    assert star_link in page(member_client, "/calls/", publisher=traffic["star"].pk)
    call = traffic["star"].calls.first()
    assert star_link in page(member_client, f"/calls/{call.pk}/")


def test_publisher_tables_carry_profit_roi_and_quality_columns(member_client, traffic):
    html = page(member_client, "/publishers/", **WEEK)
    table = html[html.index('id="publisher-table"') :]
    header = table[: table.index("</thead>")]
    for column in ("Revenue", "Profit", "ROI", "Repeat rate", "Short-call rate"):
        assert f">{column}</button>" in header
    star_row = table[table.index(f'data-publisher="{traffic["star"].pk}"') :]
    assert (
        '<td class="num" data-sort="280.0000">$280.00</td>' in star_row[: star_row.index("</tr>")]
    )


def test_publisher_page_of_another_tenant_is_404(member_client, other_org, traffic):
    rival = PublisherFactory(organization=other_org, name="Rival publisher")
    assert member_client.get(f"/publishers/{rival.pk}/").status_code == 404


def test_a_publisher_without_calls_in_the_range_says_so(member_client, org, traffic):
    quiet = PublisherFactory(organization=org, name="Quiet")
    html = page(member_client, f"/publishers/{quiet.pk}/", **WEEK)
    assert "This publisher sent no calls matching these filters." in html


def test_a_viewer_reads_the_publisher_page(viewer_client, traffic):
    assert viewer_client.get(star_url(traffic), WEEK).status_code == 200
