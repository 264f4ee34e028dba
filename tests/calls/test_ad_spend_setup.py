"""Ad spend on the screens: a week per campaign (and publisher, or campaign-wide) edited in
place, and a CSV upload, both written through `calls.ad_spend.ad_spend_write`. The KPI
selector reads the AdSpend table itself, so a write shows at once and marks no rollup day."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

from django.core.files.uploadedfile import SimpleUploadedFile

from calls.models import AdSpend
from kpis.models import DirtyDay
from kpis.selectors import GroupBy, KpiFilter, kpis_report
from tests.factories import AdSpendFactory, CampaignFactory, PublisherFactory

MONDAY = dt.date(2026, 11, 2)


def text(response) -> str:
    return unescape(response.content.decode())


def day_field(day: dt.date) -> str:
    return f"amount_{day.isoformat()}"


def spend(org) -> dict[tuple, Decimal]:
    return {
        (row.campaign.name, row.publisher.name if row.publisher else None, row.day): row.amount
        for row in AdSpend.objects.for_organization(org).select_related("campaign", "publisher")
    }


def test_the_grid_shows_the_week_of_the_day_asked_with_its_amounts(member_client, org):
    campaign = CampaignFactory(organization=org, name="Auto")
    AdSpendFactory(organization=org, campaign=campaign, day=MONDAY, amount=Decimal("120.50"))
    wednesday = MONDAY + dt.timedelta(days=2)
    page = text(member_client.get(f"/settings/ad-spend/?campaign={campaign.pk}&start={wednesday}"))
    for n in range(7):
        assert f'name="{day_field(MONDAY + dt.timedelta(days=n))}"' in page
    assert 'name="amount_2026-11-01"' not in page and 'name="amount_2026-11-09"' not in page
    assert re.search(r'name="amount_2026-11-02"[^>]*value="120.5', page)
    assert "Week total" in page and "120.50" in page
    # The weeks around it, for the same campaign.
    assert f"?campaign={campaign.pk}&start=2026-10-26" in page
    assert f"?campaign={campaign.pk}&start=2026-11-09" in page


def test_saving_the_grid_sets_updates_and_removes_days(member_client, org):
    campaign = CampaignFactory(organization=org, name="Auto")
    AdSpendFactory(organization=org, campaign=campaign, day=MONDAY, amount=Decimal("1"))
    AdSpendFactory(
        organization=org, campaign=campaign, day=MONDAY + dt.timedelta(1), amount=Decimal("2")
    )
    data = {
        "campaign": campaign.pk,
        "start": MONDAY.isoformat(),
        day_field(MONDAY): "100",
        day_field(MONDAY + dt.timedelta(1)): "",
        day_field(MONDAY + dt.timedelta(4)): "0",
    }
    response = member_client.post("/settings/ad-spend/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/ad-spend/?campaign={campaign.pk}&start=2026-11-02"
    assert spend(org) == {
        ("Auto", None, MONDAY): Decimal("100"),
        ("Auto", None, MONDAY + dt.timedelta(4)): Decimal("0"),
    }


def test_a_publishers_grid_is_apart_from_the_campaign_wide_one(member_client, org):
    campaign = CampaignFactory(organization=org, name="Auto")
    publisher = PublisherFactory(organization=org, name="Star")
    AdSpendFactory(organization=org, campaign=campaign, day=MONDAY, amount=Decimal("7"))
    data = {
        "campaign": campaign.pk,
        "publisher": publisher.pk,
        "start": MONDAY.isoformat(),
        day_field(MONDAY): "30",
    }
    assert member_client.post("/settings/ad-spend/", data).status_code == 302
    assert spend(org) == {
        ("Auto", None, MONDAY): Decimal("7"),
        ("Auto", "Star", MONDAY): Decimal("30"),
    }


def test_grid_spend_counts_at_once_and_marks_no_rollup_day(member_client, org):
    campaign = CampaignFactory(organization=org)
    data = {"campaign": campaign.pk, "start": MONDAY.isoformat(), day_field(MONDAY): "250"}
    assert member_client.post("/settings/ad-spend/", data).status_code == 302
    report = kpis_report(org, KpiFilter(date_from=MONDAY, date_to=MONDAY), GroupBy.NONE)
    assert report.totals.counts.ad_spend == Decimal("250")
    assert not DirtyDay.objects.for_organization(org).exists()


def test_a_bad_amount_saves_nothing_of_the_week(member_client, org):
    campaign = CampaignFactory(organization=org)
    data = {
        "campaign": campaign.pk,
        "start": MONDAY.isoformat(),
        day_field(MONDAY): "10",
        day_field(MONDAY + dt.timedelta(1)): "lots",
    }
    response = member_client.post("/settings/ad-spend/", data)
    assert response.status_code == 200
    assert "Enter a number." in text(response)
    assert not AdSpend.objects.exists()


# --- CSV upload ----------------------------------------------------------------------------


def upload(client, body: str):
    file = SimpleUploadedFile("spend.csv", body.encode(), content_type="text/csv")
    return client.post("/settings/ad-spend/upload/", {"file": file})


def test_a_csv_writes_every_row_and_uploading_it_again_changes_nothing(member_client, org):
    CampaignFactory(organization=org, name="Auto")
    PublisherFactory(organization=org, name="Star")
    body = (
        "\ufeffDay,Campaign,Publisher,Amount\n2026-11-02,Auto,,$1,250.00\n".replace(
            "$1,250.00", '"$1,250.00"'
        )
        + "2026-11-02,Auto,Star,30\n"
        + "2026-11-03,Auto,Star,12.5\n"
    )
    response = upload(member_client, body)
    assert response.status_code == 302
    expected = {
        ("Auto", None, MONDAY): Decimal("1250"),
        ("Auto", "Star", MONDAY): Decimal("30"),
        ("Auto", "Star", MONDAY + dt.timedelta(1)): Decimal("12.5"),
    }
    assert spend(org) == expected
    assert upload(member_client, body).status_code == 302
    assert spend(org) == expected
    page = text(member_client.get("/settings/ad-spend/upload/"))
    assert "Imported 3 rows of ad spend (read as UTF-8 with BOM, comma-separated)." in page


def test_a_windows_1252_semicolon_csv_keeps_its_accents(member_client, org):
    # A European Excel save: Windows-1252, semicolons, decimal commas. It used to be read
    # as UTF-8 with replacement characters, so "Café" named no campaign.
    CampaignFactory(organization=org, name="Café Auto")
    body = "day;campaign;publisher;amount\r\n2026-11-02;Café Auto;;12,50\r\n".encode("cp1252")
    file = SimpleUploadedFile("spend.csv", body, content_type="text/csv")
    response = member_client.post("/settings/ad-spend/upload/", {"file": file})
    assert response.status_code == 302
    assert spend(org) == {("Café Auto", None, MONDAY): Decimal("12.5")}
    page = text(member_client.get("/settings/ad-spend/upload/"))
    assert "read as Windows-1252, semicolon-separated" in page


def test_a_file_in_no_text_encoding_is_refused_and_writes_nothing(member_client, org):
    CampaignFactory(organization=org, name="Auto")
    body = b"day,campaign,publisher,amount\r\n2026-11-02,Auto\x81\x8d,,1\r\n"
    file = SimpleUploadedFile("spend.csv", body, content_type="text/csv")
    response = member_client.post("/settings/ad-spend/upload/", {"file": file})
    assert response.status_code == 200
    assert "not text in UTF-8, UTF-16 or Windows-1252" in text(response)
    assert spend(org) == {}


def test_a_csv_row_replaces_the_amount_of_its_day(member_client, org):
    campaign = CampaignFactory(organization=org, name="Auto")
    AdSpendFactory(organization=org, campaign=campaign, day=MONDAY, amount=Decimal("5"))
    upload(member_client, "day,campaign,publisher,amount\n2026-11-02,Auto,,8\n")
    assert spend(org) == {("Auto", None, MONDAY): Decimal("8")}


def test_a_csv_with_bad_rows_writes_nothing_and_names_row_and_column(member_client, org):
    CampaignFactory(organization=org, name="Auto")
    body = (
        "Date,Campaign,Publisher,Spend\n"
        "2026-11-02,Auto,,10\n"
        "11/03/2026,Auto,,10\n"
        "2026-11-04,Nope,,10\n"
        "2026-11-05,Auto,Ghost,-3\n"
        "2026-11-02,Auto,,4\n"
    )
    response = upload(member_client, body)
    assert response.status_code == 200
    rows = re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td>(.*?)</td><td class=\"wrap\">(.*?)</td></tr>",
        text(response),
    )
    assert rows == [
        ("3", "Date", "'11/03/2026' is not a date like 2026-11-02"),
        ("4", "Campaign", "Unknown campaign 'Nope'. Create it first."),
        ("5", "Publisher", "Unknown publisher 'Ghost'. Create it first."),
        ("5", "Spend", "'-3' is negative; amounts must be 0 or more"),
        ("6", "Date", "Repeats row 2 (same day, campaign and publisher)."),
    ]
    assert not AdSpend.objects.exists()


def test_a_csv_without_the_columns_says_which_are_missing(member_client, org):
    response = upload(member_client, "when,what\n2026-11-02,10\n")
    assert response.status_code == 200
    page = text(response)
    for column in ("day", "campaign", "amount"):
        assert (
            f'<td class="num">1</td><td>{column}</td><td class="wrap">missing column</td>' in page
        )


def test_without_a_choice_the_grid_is_the_first_campaigns_week_of_today(member_client, org):
    CampaignFactory(organization=org, name="Zeta")
    first = CampaignFactory(organization=org, name="Alpha")
    page = text(member_client.get("/settings/ad-spend/"))
    monday = org.local_today() - dt.timedelta(days=org.local_today().weekday())
    assert f'<option value="{first.pk}" selected>Alpha</option>' in page
    assert f'name="start" value="{monday.isoformat()}"' in page
    assert f'name="{day_field(monday)}"' in page
