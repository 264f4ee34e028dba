"""Reports to more people (issue 15): a manager subscribes any member or any address, daily or
weekly; each mail can be stopped by its signed link; the XLSX carries native charts.

Times are given to `reports_send_due(now)` as the frozen clock. Acme is in New York: Thursday
2026-11-05 08:10 EST is 13:10 UTC; Berlin (CET) is 07:10 UTC at 08:10 local.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import signing

from kpis.models import ReportFrequency, ReportSubscription
from kpis.reports.mail import (
    report_period_due,
    report_subscription_claim,
    reports_send_due,
)
from kpis.reports.subscriptions import report_subscription_save, report_unsubscribe_token
from kpis.reports.tasks import weekly_reports_send_task
from kpis.reports.weekly import (
    CHART_PUBLISHERS,
    report_xlsx,
    weekly_report_data,
)
from kpis.rollups import rollups_rebuild
from ppc_dashboard.tenancy.models import Membership
from tests.factories import (
    CallFactory,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    PublisherFactory,
    UserFactory,
)
from tests.kpis.reports.test_reports import WEEK, utc, week, workbook  # noqa: F401 (week: a fixture)

THURSDAY_0810_NEW_YORK = utc(2026, 11, 5, 13, 10)
MONDAY_0810_NEW_YORK = utc(2026, 11, 9, 13, 10)
OUTSIDER = "cfo@partner.test"


@pytest.fixture
def berlin_org(db):
    return OrganizationFactory(slug="berlin", name="Berlin Leads", timezone="Europe/Berlin")


def subscribe_address(organization, email=OUTSIDER, frequency=ReportFrequency.DAILY, filters=""):
    return report_subscription_save(
        organization=organization,
        email=email,
        frequency=frequency,
        filters=filters,
        subscribed_by=None,
    )


def subscribe_member(organization, frequency=ReportFrequency.WEEKLY):
    user = UserFactory()
    MembershipFactory(organization=organization, user=user)
    return report_subscription_save(
        organization=organization,
        user=user,
        frequency=frequency,
        filters="",
        subscribed_by=None,
    )


def unsubscribe_url(message) -> str:
    return re.search(r"https?://[^/\s]+(/reports/unsubscribe/\S+/)", message.body).group(1)


# --- When a report is due -------------------------------------------------------------------


def test_a_daily_report_is_yesterdays_from_0800_local_in_each_zone(org, berlin_org):
    daily = ReportFrequency.DAILY
    berlin_0810_tuesday = utc(2026, 11, 10, 7, 10)
    assert report_period_due(berlin_0810_tuesday, berlin_org, daily) == (
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 9),
    )
    assert report_period_due(berlin_0810_tuesday, org, daily) is None  # 02:10 in New York
    assert report_period_due(utc(2026, 11, 10, 12, 59), org, daily) is None  # 07:59 NY
    assert report_period_due(utc(2026, 11, 10, 13, 0), org, daily)[0] == dt.date(2026, 11, 9)
    # 23:30 on Tuesday in New York is Wednesday 04:30 UTC: still Tuesday's due day there,
    # and 05:30 on Wednesday in Berlin: not yet 08:00.
    late = utc(2026, 11, 11, 4, 30)
    assert report_period_due(late, org, daily)[0] == dt.date(2026, 11, 9)
    assert report_period_due(late, berlin_org, daily) is None


def test_the_daily_report_follows_the_tenants_clock_across_daylight_saving(org):
    daily = ReportFrequency.DAILY
    # New York leaves daylight saving on Sunday 2026-11-01: 08:00 is 12:00 UTC on Saturday
    # and 13:00 UTC on Sunday.
    assert report_period_due(utc(2026, 10, 31, 12, 10), org, daily)[0] == dt.date(2026, 10, 30)
    assert report_period_due(utc(2026, 11, 1, 12, 10), org, daily) is None  # 07:10 EST
    assert report_period_due(utc(2026, 11, 1, 13, 10), org, daily)[0] == dt.date(2026, 10, 31)


def test_a_weekly_report_is_due_on_mondays_only(org):
    weekly = ReportFrequency.WEEKLY
    assert report_period_due(THURSDAY_0810_NEW_YORK, org, weekly) is None
    assert report_period_due(MONDAY_0810_NEW_YORK, org, weekly) == (
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 8),
    )


# --- Sending ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("week")
def test_a_daily_report_goes_to_an_outside_address_with_yesterdays_numbers(org, mailoutbox):
    subscribe_address(org)
    subscribe_member(org, ReportFrequency.WEEKLY)  # not on a Thursday
    assert reports_send_due(THURSDAY_0810_NEW_YORK) == 1
    [message] = mailoutbox
    assert message.to == [OUTSIDER]
    assert message.subject == "Daily report: Acme Calls, 2026-11-04"
    summary = {r[0].value: r[1].value for r in workbook(message.attachments[0][1])["Summary"]}
    # Wednesday: the one Home call, converted at 50.
    assert summary["Calls"] == 1 and summary["Revenue"] == 50.0
    assert summary["Period"] == "2026-11-04"
    assert unsubscribe_url(message) in message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.usefixtures("week")
def test_on_monday_the_weekly_and_the_daily_reports_both_go_out(org, mailoutbox):
    daily = subscribe_address(org)
    weekly = subscribe_member(org, ReportFrequency.WEEKLY)
    assert reports_send_due(MONDAY_0810_NEW_YORK) == 2
    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert subjects == {
        OUTSIDER: "Daily report: Acme Calls, 2026-11-08",
        weekly.recipient: "Weekly report: Acme Calls, 2026-11-02 to 2026-11-08",
    }
    daily.refresh_from_db()
    weekly.refresh_from_db()
    assert daily.last_sent_from == dt.date(2026, 11, 8)
    assert weekly.last_sent_from == dt.date(2026, 11, 2)


def test_a_day_is_sent_once_however_often_the_beat_runs(org, mailoutbox):
    subscribe_address(org)
    for hour in (13, 14, 20, 23):  # 08:10 to 18:10 in New York, Thursday
        reports_send_due(utc(2026, 11, 5, hour, 10))
    assert len(mailoutbox) == 1
    reports_send_due(utc(2026, 11, 6, 13, 10))  # Friday: Thursday's report
    assert [m.subject[-10:] for m in mailoutbox] == ["2026-11-04", "2026-11-05"]


def test_a_run_that_loses_the_claim_sends_nothing(org, mailoutbox, monkeypatch):
    subscription = subscribe_address(org)
    claim = report_subscription_claim

    def claimed_meanwhile(*, subscription_id, first_day):
        # Another beat run claims the day between this run's read and its claim.
        ReportSubscription.objects.filter(pk=subscription_id).update(last_sent_from=first_day)
        return claim(subscription_id=subscription_id, first_day=first_day)

    monkeypatch.setattr("kpis.reports.mail.report_subscription_claim", claimed_meanwhile)
    assert reports_send_due(THURSDAY_0810_NEW_YORK) == 0
    assert mailoutbox == []
    subscription.refresh_from_db()
    assert subscription.last_sent_from == dt.date(2026, 11, 4)


def test_an_outside_address_keeps_getting_the_report_a_former_member_does_not(org, mailoutbox):
    subscribe_address(org)
    member = subscribe_member(org, ReportFrequency.DAILY)
    Membership.objects.filter(user=member.user).delete()
    assert reports_send_due(THURSDAY_0810_NEW_YORK) == 1
    assert [m.to for m in mailoutbox] == [[OUTSIDER]]


def test_the_task_sends_the_daily_reports_due_now(org, mailoutbox, monkeypatch):
    subscribe_address(org)
    monkeypatch.setattr("kpis.reports.tasks.timezone.now", lambda: THURSDAY_0810_NEW_YORK)
    assert weekly_reports_send_task() == 1


@pytest.mark.usefixtures("week")
def test_each_tenants_report_goes_to_its_own_subscribers_only(org, other_org, mailoutbox):
    subscribe_address(org, email="ours@partner.test")
    subscribe_address(other_org, email="theirs@partner.test")
    reports_send_due(utc(2026, 11, 3, 13, 10))  # Tuesday 08:10 in New York: Monday's report
    by_address = {m.to[0]: workbook(m.attachments[0][1]) for m in mailoutbox}
    facts = {
        to: {row[0].value: row[1].value for row in book["Summary"]}
        for to, book in by_address.items()
    }
    assert {to: (f["Organization"], f["Calls"]) for to, f in facts.items()} == {
        "ours@partner.test": ("Acme Calls", 4),
        "theirs@partner.test": ("Rival Media", 3),
    }


# --- Saving a subscription --------------------------------------------------------------------


def test_a_members_address_is_subscribed_as_that_member(org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="Ann@Acme.test"))
    subscription = subscribe_address(org, email="ann@acme.TEST")
    assert subscription.user == colleague.user and subscription.email == ""


def test_another_tenants_member_is_an_outside_address_here(org, other_org):
    rival = MembershipFactory(organization=other_org, user=UserFactory(email="spy@rival.test"))
    subscription = subscribe_address(org, email="spy@rival.test")
    assert subscription.user is None and subscription.email == "spy@rival.test"
    assert rival.user.report_subscriptions.count() == 0


def test_changing_the_frequency_forgets_the_last_report_sent(org, mailoutbox):
    subscription = subscribe_address(org)
    reports_send_due(utc(2026, 11, 8, 14, 10))  # Sunday: Saturday's daily report
    subscribe_address(org, frequency=ReportFrequency.WEEKLY)
    # Without forgetting, the day sent (Saturday 11-07) would skip the week of 11-02.
    assert reports_send_due(MONDAY_0810_NEW_YORK) == 1
    assert mailoutbox[-1].subject.startswith("Weekly report")
    assert ReportSubscription.objects.get(pk=subscription.pk).frequency == "weekly"


# --- The settings page ------------------------------------------------------------------------


def test_a_manager_subscribes_an_address_daily_and_a_member_weekly(member_client, org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="boss@acme.test"))
    form = {"member": "", "email": OUTSIDER, "frequency": "daily", "filters": ""}
    assert member_client.post("/settings/reports/", form).status_code == 302
    form = {"member": colleague.user_id, "frequency": "weekly", "filters": ""}
    assert member_client.post("/settings/reports/", form).status_code == 302
    subscriptions = ReportSubscription.objects.for_organization(org).order_by("id")
    assert [(s.recipient, s.frequency) for s in subscriptions] == [
        (OUTSIDER, "daily"),
        ("boss@acme.test", "weekly"),
    ]
    assert all(s.subscribed_by == member_client.user for s in subscriptions)
    page = member_client.get("/settings/reports/").content.decode()
    assert OUTSIDER in page and "(not a member)" in page and "boss@acme.test" in page


@pytest.mark.parametrize(
    "form,error",
    [
        ({"member": "", "email": ""}, "Choose a member or give an email address"),
        ({"member": "self", "email": OUTSIDER}, "Choose a member or give an email address"),
        ({"member": "", "email": "not-an-address"}, "Enter a valid email address."),
    ],
    ids=["neither", "both", "bad-address"],
)
def test_the_form_wants_one_recipient(member_client, org, form, error):
    if form["member"] == "self":
        form["member"] = member_client.user.pk
    response = member_client.post("/settings/reports/", {**form, "frequency": "daily"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ReportSubscription.objects.exists()


def test_a_viewer_cannot_subscribe_others(viewer_client, org):
    form = {"member": "", "email": OUTSIDER, "frequency": "daily", "filters": ""}
    assert viewer_client.post("/settings/reports/", form).status_code == 403
    colleague = MembershipFactory(organization=org)
    form = {"member": colleague.user_id, "frequency": "daily", "filters": ""}
    assert viewer_client.post("/settings/reports/", form).status_code == 403
    assert not ReportSubscription.objects.exists()


def test_a_viewer_cannot_remove_a_subscription(viewer_client, org):
    subscription = subscribe_address(org)
    response = viewer_client.post(f"/settings/reports/{subscription.pk}/remove/")
    assert response.status_code == 403
    assert ReportSubscription.objects.filter(pk=subscription.pk).exists()


def test_a_manager_removes_a_subscription(member_client, org):
    subscription = subscribe_address(org)
    response = member_client.post(f"/settings/reports/{subscription.pk}/remove/")
    assert response.status_code == 302
    assert not ReportSubscription.objects.exists()


def test_another_tenants_subscriptions_are_neither_listed_nor_removed_nor_chosen(
    member_client, org, other_org
):
    theirs = subscribe_address(other_org, email="theirs@partner.test")
    rival = MembershipFactory(organization=other_org, user=UserFactory(email="spy@rival.test"))
    assert "theirs@partner.test" not in member_client.get("/settings/reports/").content.decode()
    assert member_client.post(f"/settings/reports/{theirs.pk}/remove/").status_code == 404
    assert ReportSubscription.objects.filter(pk=theirs.pk).exists()
    form = {"member": rival.user_id, "frequency": "daily", "filters": ""}
    response = member_client.post("/settings/reports/", form)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ReportSubscription.objects.for_organization(org).exists()


# --- The unsubscribe link ---------------------------------------------------------------------


def test_the_mails_link_asks_then_unsubscribes_without_a_login(client, org, mailoutbox):
    subscribe_address(org)
    reports_send_due(THURSDAY_0810_NEW_YORK)
    url = unsubscribe_url(mailoutbox[0])
    page = client.get(url)
    assert page.status_code == 200 and OUTSIDER in page.content.decode()
    assert ReportSubscription.objects.exists()  # a mail scanner opening the link stops nothing
    done = client.post(url)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert not ReportSubscription.objects.exists()
    # The link again, once used: it says so, and nothing breaks.
    assert "You are unsubscribed" in client.get(url).content.decode()
    assert reports_send_due(utc(2026, 11, 6, 13, 10)) == 0


def test_a_forged_or_altered_link_is_refused(client, org):
    subscription = subscribe_address(org)
    token = report_unsubscribe_token(subscription)
    forged = signing.dumps({"id": subscription.pk, "to": OUTSIDER}, salt="another purpose")
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, altered, "nonsense"):
        response = client.post(f"/reports/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "does not work" in response.content.decode()
    assert ReportSubscription.objects.filter(pk=subscription.pk).exists()


def test_a_link_stops_only_the_subscription_and_address_it_was_sent_for(client, org, other_org):
    ours = subscribe_address(org)
    theirs = subscribe_address(other_org)  # the same address, another tenant's report
    member = subscribe_member(org, ReportFrequency.DAILY)
    member_token = report_unsubscribe_token(member)
    # The member changed their address since that mail: the old link no longer stops it.
    member.user.email = "new@acme.test"
    member.user.save()
    client.post(f"/reports/unsubscribe/{member_token}/")
    client.post(f"/reports/unsubscribe/{report_unsubscribe_token(ours)}/")
    remaining = set(ReportSubscription.objects.values_list("pk", flat=True))
    assert remaining == {theirs.pk, member.pk}


# --- The workbook's charts ------------------------------------------------------------------


def _charts(book):
    return {type(chart).__name__: chart for chart in book["Summary"]._charts}


@pytest.mark.usefixtures("week")
def test_the_workbook_charts_the_daily_trend_from_the_days_sheet(org):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    days = book["Days"]
    header = [cell.value for cell in days[1]]
    chart = _charts(book)["LineChart"]
    expected = []
    for name in ("Calls", "Answered", "Conversions"):
        letter = chr(ord("A") + header.index(name))
        expected.append((f"'Days'!{letter}1", f"'Days'!${letter}$2:${letter}$8"))
    assert [(s.tx.strRef.f, s.val.numRef.f) for s in chart.series] == expected
    assert {s.cat.numRef.f for s in chart.series} == {"'Days'!$A$2:$A$8"}
    # The cells the series read hold the week's numbers: 4 calls Monday, 2 Tuesday, 1 Wednesday.
    calls = header.index("Calls") + 1
    assert [days.cell(row=r, column=calls).value for r in range(2, 9)] == [4, 2, 1, 0, 0, 0, 0]


@pytest.mark.usefixtures("week")
def test_the_workbook_charts_the_publishers_conversion_rate(org):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    publishers = book["Publishers"]
    header = [cell.value for cell in publishers[1]]
    letter = chr(ord("A") + header.index("Conversion rate"))
    [series] = _charts(book)["BarChart"].series
    assert series.val.numRef.f == f"'Publishers'!${letter}$2:${letter}$4"
    assert series.cat.numRef.f == "'Publishers'!$A$2:$A$4"
    names = [publishers.cell(row=r, column=1).value for r in (2, 3, 4)]
    # The busiest first, as the bars; the unattributed ad spend's row has no rate (a gap).
    assert names == ["Star", "Weak", "Ad spend not attributed"]


def test_the_conversion_chart_shows_the_busiest_publishers_only(org):
    campaign = CampaignFactory(organization=org)
    for n in range(CHART_PUBLISHERS + 3):
        publisher = PublisherFactory(organization=org, name=f"P{n:02}")
        CallFactory(
            organization=org,
            campaign=campaign,
            publisher=publisher,
            started_at=utc(2026, 11, 3, 15, n),
        )
    rollups_rebuild(org)
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    header = [cell.value for cell in book["Publishers"][1]]
    letter = chr(ord("A") + header.index("Conversion rate"))
    [series] = _charts(book)["BarChart"].series
    last = CHART_PUBLISHERS + 1
    assert series.val.numRef.f == f"'Publishers'!${letter}$2:${letter}${last}"
    assert series.cat.numRef.f == f"'Publishers'!$A$2:$A${last}"


def test_a_report_without_publishers_has_no_conversion_chart(org):
    book = workbook(report_xlsx(weekly_report_data(org, WEEK)))
    assert set(_charts(book)) == {"LineChart"}
