"""The weekly report: CSV, XLSX and print page for any filter, and the Monday mail.

Week under test: Monday 2026-11-02 to Sunday 2026-11-08 (local), previous week 10-26..11-01.
Monday 2026-11-09 08:10 is 13:10 UTC in New York (EST) and 07:10 UTC in Berlin (CET).
"""

import csv
import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from django.http import QueryDict
from django.utils import timezone
from openpyxl import load_workbook

from calls.models import CallStatus
from kpis.models import ReportSubscription, ReportTag
from kpis.reports.mail import (
    report_period_due,
    report_subscription_claim,
    reports_send_due,
)
from kpis.reports.tasks import weekly_reports_send_task
from kpis.reports.weekly import (
    last_full_week,
    report_csv,
    report_filters_from_query,
    report_xlsx,
    tag_sheet_title,
    weekly_report_data,
)
from kpis.rollups import rollups_rebuild
from kpis.selectors import GroupBy, KpiFilter, kpis_as_dict, kpis_report
from ppc_dashboard.tenancy.models import Membership
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    PublisherFactory,
    UserFactory,
)

WEEK = KpiFilter(date_from=dt.date(2026, 11, 2), date_to=dt.date(2026, 11, 8))
WEEK_QUERY = {"range": "custom", "date_from": "2026-11-02", "date_to": "2026-11-08"}
REPORT_PATHS = ["/reports/weekly/", "/reports/weekly.csv", "/reports/weekly.xlsx"]
REPORT_CSS = Path(__file__).resolve().parents[3] / "static" / "css" / "report.css"
SHEETS = ["Summary", "Campaigns", "Publishers", "Buyers", "Days"]
USD = '"$"#,##0.00'


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def week(org, other_org):
    """Acme (New York) over the week, its previous week, and a rival tenant's big numbers."""
    auto = CampaignFactory(organization=org, name="Auto", vertical="insurance")
    home = CampaignFactory(organization=org, name="Home", vertical="home_services")
    star = PublisherFactory(organization=org, name="Star")
    weak = PublisherFactory(organization=org, name="Weak")
    b1 = BuyerFactory(organization=org, name="B1")
    b2 = BuyerFactory(organization=org, name="B2")

    def call(campaign, publisher, buyer, started_at, **fields):
        return CallFactory(
            organization=org,
            campaign=campaign,
            publisher=publisher,
            buyer=buyer,
            started_at=started_at,
            **fields,
        )

    # Monday: Star sends 4 answered 120 s calls to B1, 2 converted at 40.
    for n in range(4):
        converted = n < 2
        call(
            auto,
            star,
            b1,
            utc(2026, 11, 2, 15, n),
            converted=converted,
            revenue=Decimal("40.00") if converted else Decimal("0"),
            cost=Decimal("15.00"),
        )
    # Tuesday: Weak sends one short answered call and one missed call to B2, no revenue.
    call(auto, weak, b2, utc(2026, 11, 3, 15), duration_seconds=60, revenue=0, cost=5)
    call(
        auto,
        weak,
        b2,
        utc(2026, 11, 3, 16),
        status=CallStatus.MISSED,
        duration_seconds=0,
        revenue=0,
        cost=0,
    )
    # Wednesday: one Home call, converted at 50.
    call(home, star, b1, utc(2026, 11, 4, 15), duration_seconds=200, converted=True, revenue=50)
    # The previous week: two Auto calls, no conversions.
    for n in range(2):
        call(auto, star, b1, utc(2026, 10, 27, 15, n), revenue=0, cost=Decimal("10.00"))
    AdSpendFactory(organization=org, campaign=auto, day=dt.date(2026, 11, 2), amount=100)

    rival = CampaignFactory(organization=other_org, name="Rival campaign")
    for n in range(3):
        CallFactory(
            organization=other_org,
            campaign=rival,
            started_at=utc(2026, 11, 2, 15, n),
            converted=True,
            revenue=Decimal("999.00"),
        )
    rollups_rebuild(org)
    rollups_rebuild(other_org)
    return {"auto": auto, "home": home, "star": star, "weak": weak, "b1": b1, "rival": rival}


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def workbook_text(book) -> str:
    """Every cell of every sheet as text (the .xlsx bytes are compressed: no substring test)."""
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def header(sheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def column(sheet, title: str) -> int:
    return header(sheet).index(title) + 1


# --- The report data --------------------------------------------------------------------


def test_last_full_week_is_the_monday_to_sunday_before_this_week():
    assert last_full_week(dt.date(2026, 11, 9)) == (dt.date(2026, 11, 2), dt.date(2026, 11, 8))
    assert last_full_week(dt.date(2026, 11, 8)) == (dt.date(2026, 10, 26), dt.date(2026, 11, 1))
    assert last_full_week(dt.date(2026, 11, 11)) == (dt.date(2026, 11, 2), dt.date(2026, 11, 8))


def test_report_filters_default_to_last_full_week_and_keep_a_named_range(org):
    today = dt.date(2026, 11, 11)
    default = report_filters_from_query(QueryDict("campaign=3"), org, today=today)
    assert (default.kpi_filter.date_from, default.kpi_filter.date_to) == (
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 8),
    )
    assert default.kpi_filter.campaign_id == 3
    assert "range=custom" in default.query_string()

    named = report_filters_from_query(
        QueryDict("range=custom&date_from=2026-10-01&date_to=2026-10-03"), org, today=today
    )
    assert (named.kpi_filter.date_from, named.kpi_filter.date_to) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 3),
    )


def test_weekly_report_totals_and_breakdowns_are_the_selectors(org, week):
    report = weekly_report_data(org, WEEK)
    assert report.totals == kpis_report(org, WEEK).totals.kpis
    assert report.previous == kpis_report(org, WEEK.previous_period()).totals.kpis
    assert report.totals.calls == 7 and report.previous.calls == 2
    assert report.totals.spend == Decimal("180.0000")  # 60 + 5 + 15 call cost + 100 ad spend
    titles = [b.title for b in report.breakdowns]
    assert titles == ["Campaigns", "Publishers", "Buyers", "Days"]
    by_campaign = {row.key: row.kpis for row in kpis_report(org, WEEK, GroupBy.CAMPAIGN).rows}
    assert {row.key: row.kpis for row in report.breakdowns[0].rows} == by_campaign
    days = report.breakdowns[3].rows
    assert [row.key for row in days] == [dt.date(2026, 11, 2) + dt.timedelta(n) for n in range(7)]
    assert [row.kpis.calls for row in days] == [4, 2, 1, 0, 0, 0, 0]
    assert {entity.name for entity in report.verdicts.campaigns} == {"Auto", "Home"}


# --- CSV ----------------------------------------------------------------------------------


def test_csv_is_one_flat_table_with_the_api_values(org, week):
    rows = csv_rows(report_csv(weekly_report_data(org, WEEK)))
    assert list(rows[0])[:7] == [
        "section",
        "key",
        "name",
        "date_from",
        "date_to",
        "verdict",
        "reasons",
    ]
    sections = [row["section"] for row in rows]
    assert sections == (
        ["total", "previous_period"]
        + ["campaign"] * 2
        + ["publisher"] * 3  # Star, Weak and "Ad spend not attributed"
        + ["buyer"] * 3  # B1, B2 and "Ad spend not attributed" (ad spend has no buyer)
        + ["day"] * 7
    )
    total = rows[0]
    expected = kpis_as_dict(kpis_report(org, WEEK).totals.kpis)
    assert (total["date_from"], total["date_to"]) == ("2026-11-02", "2026-11-08")
    assert total["calls"] == "7"
    assert total["revenue"] == expected["revenue"] == "130.0000"
    assert total["spend"] == "180.0000"
    assert total["conversion_rate"] == str(expected["conversion_rate"])
    assert rows[1]["date_from"] == "2026-10-26" and rows[1]["calls"] == "2"
    assert rows[1]["cpa"] == ""  # no conversions last week: null, not 0


def test_csv_rows_carry_ids_verdicts_and_empty_nulls(org, week):
    rows = csv_rows(report_csv(weekly_report_data(org, WEEK)))
    auto = next(r for r in rows if r["section"] == "campaign" and r["name"] == "Auto")
    assert auto["key"] == str(week["auto"].id)
    assert auto["verdict"] == "watch"  # 6 calls: too few to judge
    assert auto["reasons"] == "too few calls to judge: 6 of the 30 needed"
    weak = next(r for r in rows if r["section"] == "publisher" and r["name"] == "Weak")
    assert weak["cpa"] == "" and weak["rpm"] == "0.0000"
    assert weak["conversion_rate"] == "0.0"
    # KPIS.md: ad spend is one row of its own, "spend only: no calls, no rates".
    ad_spend = next(r for r in rows if r["section"] == "buyer" and r["key"] == "")
    assert ad_spend["name"] == "Ad spend not attributed" and ad_spend["spend"] == "100.0000"
    assert ad_spend["calls"] == "0" and ad_spend["roi"] == "" and ad_spend["cost_per_call"] == ""
    day = next(r for r in rows if r["section"] == "day" and r["key"] == "2026-11-05")
    assert (day["date_from"], day["date_to"], day["calls"]) == ("2026-11-05", "2026-11-05", "0")
    assert day["average_duration"] == ""


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_has_a_summary_and_one_sheet_per_breakdown_with_frozen_headers(org, week):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "B2", name
        assert all(cell.font.bold for cell in sheet[1]), name
        assert sheet.column_dimensions["A"].width >= 8, name
    assert header(book["Summary"]) == ["KPI", "This period", "Previous period", "Change"]
    campaigns = header(book["Campaigns"])
    assert campaigns[:4] == ["Campaign", "ID", "Verdict", "Calls"]
    assert campaigns[-2:] == ["Reasons", "Notes"]
    assert header(book["Buyers"])[:3] == ["Buyer", "ID", "Calls"]
    assert header(book["Days"])[:2] == ["Day", "Calls"]
    # Columns are sized to their content, the reasons widest but capped.
    assert (
        book["Campaigns"].column_dimensions["A"].width
        < book["Campaigns"].column_dimensions["X"].width
        <= 60
    )


def test_xlsx_summary_values_and_formats(org, week):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    sheet = book["Summary"]
    totals = kpis_report(org, WEEK).totals.kpis
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
    calls, revenue, conversion = rows["Calls"], rows["Revenue"], rows["Conversion rate"]
    assert (calls[1].value, calls[2].value, calls[1].number_format) == (7, 2, "#,##0")
    assert calls[3].value == pytest.approx(2.5)  # +250% vs 2 calls
    assert calls[3].number_format == "+0.0%;-0.0%;0.0%"
    assert revenue[1].value == float(totals.revenue) == 130.0
    assert revenue[1].number_format == USD
    assert conversion[1].value == pytest.approx(totals.conversion_rate / 100)
    assert conversion[1].number_format == "0.0%"
    assert rows["Avg duration (s)"][1].value == pytest.approx(totals.average_duration)
    # Last week had no conversions: CPA is an empty cell, never 0, and so is its change.
    assert rows["CPA"][2].value is None and rows["CPA"][3].value is None
    assert rows["Organization"][1].value == "Acme Calls"
    assert rows["Period"][1].value == "2026-11-02 to 2026-11-08"


def test_xlsx_breakdown_rows_equal_the_selector(org, week):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    sheet = book["Publishers"]
    expected = {row.label: row.kpis for row in kpis_report(org, WEEK, GroupBy.PUBLISHER).rows}
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[0].value for row in rows] == ["Star", "Weak", "Ad spend not attributed"]
    assert [row[1].value for row in rows] == [week["star"].id, week["weak"].id, None]
    for row in rows:
        kpis = expected[row[0].value]
        assert row[column(sheet, "Calls") - 1].value == kpis.calls
        spend = row[column(sheet, "Spend") - 1]
        assert Decimal(str(spend.value)) == kpis.spend
        assert spend.number_format == USD
        rate = row[column(sheet, "Conversion rate") - 1]
        assert rate.number_format == "0.0%"
        if kpis.conversion_rate is None:
            assert rate.value is None
        else:
            assert rate.value == pytest.approx(kpis.conversion_rate / 100)
    weak = rows[1]
    assert weak[column(sheet, "CPA") - 1].value is None  # null, not 0
    assert weak[column(sheet, "Verdict") - 1].value == "watch"
    star_cpa = rows[0][column(sheet, "CPA") - 1]
    assert Decimal(str(star_cpa.value)) == expected["Star"].cpa.quantize(Decimal("0.0001"))

    days = book["Days"]
    first = next(days.iter_rows(min_row=2))
    assert first[0].value.date() == dt.date(2026, 11, 2)
    assert first[0].number_format == "yyyy-mm-dd"
    assert days.max_row == 8  # header + 7 days


def test_xlsx_money_format_is_the_tenants_currency(org, week):
    for currency, number_format in (("EUR", '"€"#,##0.00'), ("ZAR", '#,##0.00 "ZAR"')):
        org.currency = currency
        book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
        revenue = next(r for r in book["Summary"].iter_rows(min_row=2) if r[0].value == "Revenue")
        assert revenue[1].number_format == number_format


def test_names_are_text_never_formulas(org, week):
    week["weak"].name = '=HYPERLINK("http://evil.example","x")'
    week["weak"].save()
    report = weekly_report_data(org, WEEK)
    rows = csv_rows(report_csv(report))
    weak = next(r for r in rows if r["section"] == "publisher" and r["key"] == str(week["weak"].id))
    assert weak["name"] == "'" + week["weak"].name
    cell = workbook(report_xlsx(report))["Publishers"]["A3"]
    assert (cell.value, cell.data_type) == (week["weak"].name, "s")


def test_report_of_another_tenants_campaign_is_empty(org, week):
    report = weekly_report_data(org, KpiFilter(**vars(WEEK) | {"campaign_id": week["rival"].id}))
    assert report.totals.calls == 0 and report.totals.revenue == 0
    assert [b.rows for b in report.breakdowns[:3]] == [[], [], []]
    assert report.filter_labels == [("Campaign", f"#{week['rival'].id}")]
    assert "Rival" not in report_csv(report)


# --- Views --------------------------------------------------------------------------------


def test_print_page_renders_the_report_with_download_links(member_client, week):
    response = member_client.get("/reports/weekly/", WEEK_QUERY)
    assert response.status_code == 200
    assert response.templates[0].name == "kpis/report_print.html"
    html = response.content.decode()
    assert '<link rel="stylesheet" href="/static/css/report.css">' in html
    assert "@media print" in REPORT_CSS.read_text()
    assert "Weekly report: Acme Calls" in html
    assert "$130.00" in html  # revenue, in the tenant's currency
    assert "Auto" in html and "Star" in html and "Ad spend not attributed" in html
    assert "Rival" not in html
    query = "range=custom&amp;date_from=2026-11-02&amp;date_to=2026-11-08"
    assert f'href="/reports/weekly.csv?{query}"' in html
    assert f'href="/reports/weekly.xlsx?{query}"' in html


def test_print_page_defaults_to_the_last_full_local_week(member_client, org):
    response = member_client.get("/reports/weekly/")
    assert response.status_code == 200
    today = timezone.now().astimezone(org.tzinfo).date()
    report = response.context["report"]
    assert (report.filters.date_from, report.filters.date_to) == last_full_week(today)


def test_print_page_applies_the_filters(member_client, week):
    response = member_client.get("/reports/weekly/", {**WEEK_QUERY, "campaign": week["home"].id})
    report = response.context["report"]
    assert report.totals.calls == 1
    assert [row.label for row in report.breakdowns[0].rows] == ["Home"]
    assert "Filters: Campaign: Home" in response.content.decode()


def test_csv_download_is_an_attachment_named_by_org_and_dates(member_client, week):
    response = member_client.get("/reports/weekly.csv", WEEK_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="report-acme-2026-11-02-to-2026-11-08.csv"'
    )
    rows = csv_rows(response.content.decode())
    assert rows[0]["section"] == "total" and rows[0]["calls"] == "7"


def test_xlsx_download_is_a_workbook_attachment(member_client, week):
    response = member_client.get("/reports/weekly.xlsx", WEEK_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == (
        'attachment; filename="report-acme-2026-11-02-to-2026-11-08.xlsx"'
    )
    assert workbook(response.content).sheetnames == SHEETS


def test_downloads_apply_the_filters(member_client, week):
    query = {**WEEK_QUERY, "publisher": week["weak"].id}
    rows = csv_rows(member_client.get("/reports/weekly.csv", query).content.decode())
    assert rows[0]["calls"] == "2"
    assert {r["name"] for r in rows if r["section"] == "publisher"} == {"Weak"}
    book = workbook(member_client.get("/reports/weekly.xlsx", query).content)
    assert [row[0].value for row in book["Publishers"].iter_rows(min_row=2)] == ["Weak"]


@pytest.mark.parametrize(
    "path", ["/reports/weekly/", "/reports/weekly.csv", "/reports/weekly.xlsx"]
)
def test_another_tenants_campaign_id_yields_no_data(member_client, week, path):
    response = member_client.get(path, {**WEEK_QUERY, "campaign": week["rival"].id})
    assert response.status_code == 200
    if path.endswith(".csv"):
        rows = csv_rows(response.content.decode())
        assert rows[0]["calls"] == "0" and rows[0]["revenue"] == "0.0000"
        assert not [r for r in rows if r["section"] in ("campaign", "publisher", "buyer")]
    elif path.endswith(".xlsx"):
        book = workbook(response.content)
        assert book["Campaigns"].max_row == 1
        summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}
        assert summary["Calls"] == 0
        assert "Rival" not in workbook_text(book) and "999" not in workbook_text(book)
    else:
        assert response.context["report"].totals.calls == 0
    assert b"Rival" not in response.content and b"999" not in response.content


@pytest.mark.parametrize(
    "path", ["/reports/weekly/", "/reports/weekly.csv", "/reports/weekly.xlsx"]
)
def test_anonymous_is_redirected_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_user_of_no_organization_is_refused(client, db):
    client.force_login(UserFactory())
    assert client.get("/reports/weekly.csv").status_code == 403


def test_viewers_may_read_reports(viewer_client, week):
    assert viewer_client.get("/reports/weekly.xlsx", WEEK_QUERY).status_code == 200


def test_downloads_refuse_bad_filters_naming_the_field(member_client, week):
    response = member_client.get("/reports/weekly.csv", {**WEEK_QUERY, "campaign": "abc"})
    assert response.status_code == 400
    assert response.content.decode() == "campaign: 'abc' is not an id."


# --- The Monday mail ----------------------------------------------------------------------


@pytest.fixture
def berlin_org(db):
    return OrganizationFactory(slug="berlin", name="Berlin Leads", timezone="Europe/Berlin")


def subscribe(organization, filters: str = "") -> ReportSubscription:
    user = UserFactory()
    MembershipFactory(organization=organization, user=user)
    return ReportSubscription.objects.create(organization=organization, user=user, filters=filters)


NEW_YORK_MONDAY_0810 = utc(2026, 11, 9, 13, 10)
BERLIN_MONDAY_0810 = utc(2026, 11, 9, 7, 10)


def report_week_due(now, organization):
    period = report_period_due(now, organization, "weekly")
    if period is not None:
        assert period[1] - period[0] == dt.timedelta(days=6)
    return period and period[0]


def test_due_on_monday_from_0800_local(org, berlin_org):
    assert report_week_due(NEW_YORK_MONDAY_0810, org) == dt.date(2026, 11, 2)
    assert report_week_due(BERLIN_MONDAY_0810, berlin_org) == dt.date(2026, 11, 2)
    assert report_week_due(BERLIN_MONDAY_0810, org) is None  # 02:10 in New York
    assert report_week_due(utc(2026, 11, 9, 12, 59), org) is None  # 07:59 in New York
    assert report_week_due(utc(2026, 11, 10, 13, 10), org) is None  # Tuesday 08:10


def test_reports_go_out_at_0810_local_in_each_tenants_zone(org, berlin_org, mailoutbox):
    new_york = subscribe(org)
    berlin = subscribe(berlin_org)

    assert reports_send_due(BERLIN_MONDAY_0810) == 1
    assert [m.to for m in mailoutbox] == [[berlin.user.email]]

    assert reports_send_due(NEW_YORK_MONDAY_0810) == 1
    assert [m.to for m in mailoutbox] == [[berlin.user.email], [new_york.user.email]]


@pytest.mark.parametrize(
    "now",
    [utc(2026, 11, 9, 12, 59), utc(2026, 11, 10, 13, 10), utc(2026, 11, 8, 13, 10)],
    ids=["monday-0759", "tuesday-0810", "sunday-0810"],
)
def test_no_report_outside_monday_from_0800(org, mailoutbox, now):
    subscription = subscribe(org)
    assert reports_send_due(now) == 0
    assert mailoutbox == []
    subscription.refresh_from_db()
    assert subscription.last_sent_from is None


def test_a_week_is_sent_once(org, mailoutbox):
    subscription = subscribe(org)
    for now in (NEW_YORK_MONDAY_0810, utc(2026, 11, 9, 13, 40), utc(2026, 11, 9, 14, 10)):
        reports_send_due(now)
    assert len(mailoutbox) == 1
    subscription.refresh_from_db()
    assert subscription.last_sent_from == dt.date(2026, 11, 2)

    reports_send_due(NEW_YORK_MONDAY_0810 + dt.timedelta(days=7))
    assert len(mailoutbox) == 2
    subscription.refresh_from_db()
    assert subscription.last_sent_from == dt.date(2026, 11, 9)


def test_the_claim_is_won_by_one_run_only(org):
    subscription = subscribe(org)
    monday = dt.date(2026, 11, 2)
    assert report_subscription_claim(subscription_id=subscription.pk, first_day=monday)
    assert not report_subscription_claim(subscription_id=subscription.pk, first_day=monday)


def test_a_run_that_finds_the_week_claimed_sends_nothing(org, mailoutbox):
    subscription = subscribe(org)
    # Another beat run claimed the week between this run's read and its claim.
    ReportSubscription.objects.filter(pk=subscription.pk).update(
        last_sent_from=dt.date(2026, 11, 2)
    )
    assert reports_send_due(NEW_YORK_MONDAY_0810) == 0
    assert mailoutbox == []


def test_a_run_that_loses_the_claim_after_reading_sends_nothing(org, mailoutbox, monkeypatch):
    subscription = subscribe(org)
    claim = report_subscription_claim

    def claimed_meanwhile(*, subscription_id, first_day):
        # Another beat run claims the week between this run's read and its claim.
        ReportSubscription.objects.filter(pk=subscription_id).update(last_sent_from=first_day)
        return claim(subscription_id=subscription_id, first_day=first_day)

    monkeypatch.setattr("kpis.reports.mail.report_subscription_claim", claimed_meanwhile)
    assert reports_send_due(NEW_YORK_MONDAY_0810) == 0
    assert mailoutbox == []
    subscription.refresh_from_db()
    assert subscription.last_sent_from == dt.date(2026, 11, 2)


def test_a_failed_send_is_retried_by_a_later_run(org, mailoutbox, monkeypatch):
    subscription = subscribe(org)

    def broken_send(self, fail_silently=False):
        raise ConnectionError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", broken_send)
        assert reports_send_due(NEW_YORK_MONDAY_0810) == 0
    subscription.refresh_from_db()
    assert subscription.last_sent_from is None

    assert reports_send_due(utc(2026, 11, 9, 14, 10)) == 1
    assert len(mailoutbox) == 1


def test_the_mail_has_the_week_as_a_valid_xlsx(org, week, mailoutbox):
    subscription = subscribe(org)
    reports_send_due(NEW_YORK_MONDAY_0810)
    [message] = mailoutbox
    assert message.to == [subscription.user.email]
    assert message.subject == "Weekly report: Acme Calls, 2026-11-02 to 2026-11-08"
    assert "Calls" in message.body and "$130.00" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == "report-acme-2026-11-02-to-2026-11-08.xlsx"
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = workbook(content)
    assert book.sheetnames == SHEETS
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}
    assert summary["Calls"] == 7 and summary["Revenue"] == 130.0


def test_the_mail_uses_the_subscriptions_filters_over_last_week(org, week, mailoutbox):
    subscribe(org, filters=f"range=90&campaign={week['home'].id}")
    reports_send_due(NEW_YORK_MONDAY_0810)
    summary = workbook(mailoutbox[0].attachments[0][1])["Summary"]
    values = {r[0].value: r[1].value for r in summary.iter_rows(min_row=2)}
    assert values["Calls"] == 1  # the Home call of the week, not 90 days
    assert values["Period"] == "2026-11-02 to 2026-11-08"
    assert values["Filters"] == "Campaign: Home"


def test_the_mail_only_ever_holds_its_own_tenants_data(org, other_org, week, mailoutbox):
    subscribe(org, filters=f"campaign={week['rival'].id}")
    subscribe(other_org)
    reports_send_due(NEW_YORK_MONDAY_0810)
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        book = workbook(message.attachments[0][1])
        calls = next(r[1].value for r in book["Summary"].iter_rows(min_row=2))
        names = [r[0].value for r in book["Campaigns"].iter_rows(min_row=2)]
        if "Acme Calls" in message.subject:
            assert calls == 0 and names == []  # the rival's id yields nothing
        else:
            assert calls == 3 and names == ["Rival campaign"]


def test_a_subscriber_who_left_gets_no_report(org, mailoutbox):
    subscription = subscribe(org)
    Membership.objects.filter(user=subscription.user).delete()
    assert reports_send_due(NEW_YORK_MONDAY_0810) == 0
    assert mailoutbox == []


def test_the_task_sends_what_is_due_now(org, mailoutbox, monkeypatch):
    subscribe(org)
    monkeypatch.setattr("kpis.reports.tasks.timezone.now", lambda: NEW_YORK_MONDAY_0810)
    assert weekly_reports_send_task() == 1
    assert len(mailoutbox) == 1


def test_the_beat_runs_the_weekly_reports_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-reports-send"]
    assert entry == {"task": "kpis.tasks.weekly_reports_send_task", "schedule": 3600.0}


# --- Report tags and region (issue 11) ------------------------------------------------------


def _tagged(org, week, key="source"):
    ReportTag.objects.create(organization=org, key=key, position=0)
    ReportTag.objects.create(organization=org, key="utm:bad?", position=1)  # saved before checks
    CallFactory(
        organization=org,
        campaign=week["auto"],
        publisher=week["star"],
        buyer=week["b1"],
        started_at=dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC),
        tags={key: "google"},
        caller_region="IL",
    )
    rollups_rebuild(org)


def test_xlsx_has_a_sheet_per_report_tag_with_the_selectors_rows(org, week):
    _tagged(org, week)
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    assert book.sheetnames == [*SHEETS, "Tag source", tag_sheet_title("utm:bad?")]
    sheet = book["Tag source"]
    assert header(sheet)[:2] == ["source", "Calls"]  # values, not ids: no ID column
    expected = {
        row.label: row.counts.calls for row in kpis_report(org, WEEK, GroupBy.TAG, "source").rows
    }
    got = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert got == expected
    assert got["google"] == 1


def test_sheet_titles_of_tags_are_valid_sheet_names():
    assert tag_sheet_title("utm:bad?") == "Tag utm_bad_"
    assert len(tag_sheet_title("k" * 64)) == 31


def test_csv_names_each_tag_section_by_its_key(org, week):
    _tagged(org, week)
    sections = {row["section"] for row in csv_rows(report_csv(weekly_report_data(org, WEEK)))}
    assert "tag:source" in sections


def test_report_with_a_region_filter_leaves_out_buyers_and_tags(org, week):
    _tagged(org, week)
    report = weekly_report_data(org, replace(WEEK, region="IL"))
    assert [b.title for b in report.breakdowns] == ["Campaigns", "Publishers", "Days"]
    assert report.totals.calls == 1
    assert ("Region", "IL") in report.filter_labels
