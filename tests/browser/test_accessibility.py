"""Every page of the app passes axe-core in Chromium at a desktop and a phone width, and leaves
a screenshot of itself at both in artifacts/screenshots/.

The pages are read from the URLconf: every named route is either a page opened here (with
objects of a seeded tenant for its ids) or named in NOT_PAGES with the reason, so a page added
later fails `test_every_page_of_the_urlconf_is_checked` until it is listed. axe's script is the
one the axe-playwright-python package ships (axe-core 4.12), read from the installed package,
never fetched. Any serious or critical violation fails the test, with its rule, the elements and
axe's message, and so does an empty table header.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alerts.models import (
    AlertIncident,
    AlertRule,
    DeliveryStatus,
    FollowUp,
    FollowUpRule,
    OutboundEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from alerts.rules import MISSED_CALL_RATE
from calls.models import Call, CallImport, ImportStatus
from kpis.models import ReportFrequency, ReportTag
from kpis.reports.subscriptions import report_subscription_save, report_unsubscribe_token
from kpis.rollups import rollups_rebuild
from ppc_dashboard.tenancy.models import Membership, Role
from ppc_dashboard.tenancy.services import api_key_create, invitation_create
from publishers.models import Publisher
from routing.services import PlanTargetInput, routing_plan_save
from tests.browser import CHROMIUM, charts_draw_all, screenshot, skipped_content_draw
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.factories import (
    AdSpendFactory,
    BuyerFactory,
    CallFactory,
    MembershipFactory,
    OrganizationFactory,
    TrackingNumberFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

AXE_JS = Path(importlib.util.find_spec("axe_playwright_python").origin).parent / "axe.min.js"
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
FAILING_IMPACTS = {"serious", "critical"}
# Failing whatever axe rates them: a header cell that names nothing (axe calls it minor).
FAILING_RULES = {"empty-table-header"}

# Routes that are no page to look at, and why.
NOT_PAGES = {
    "logout": "a POST that logs out",
    "organization-switch": "a POST that switches the organization",
    "settings-invitation-revoke": "a POST",
    "settings-report-unsubscribe": "a POST",
    "alert-acknowledge": "a POST that acknowledges an alert",
    "settings-report-remove": "a POST",
    "settings-webhook-test": "a POST (the Send test event button)",
    "settings-webhook-redeliver": "a POST (the Redeliver button)",
    "call-export": "a CSV download",
    "followup-update": "a POST (a follow-up's contacted / recovered / lost buttons)",
    "settings-import-errors-csv": "a CSV download (an import's row errors)",
    "reports-csv": "a CSV download",
    "reports-xlsx": "an XLSX download",
    "api-schema": "the OpenAPI document (YAML)",
    "twilio-status-callback": "Twilio's webhook",
    "twilio-voice": "Twilio's voice webhook (TwiML)",
    "twilio-voice-action": "Twilio's <Dial> action callback (TwiML)",
    "twilio-voice-answered": "Twilio's callback when a buyer answers",
    "healthz": "a health check (JSON)",
    "readyz": "a health check (JSON)",
}
# Pages screenshot but not held to axe, and why.
AXE_EXEMPT = {
    "api-docs": "Swagger UI's own markup and colours (drf-spectacular's page): its operation "
    "headers nest buttons, which only a fork of Swagger UI could change",
}
# Pages seen logged out; the rest as the tenant's owner.
LOGGED_OUT = {"login", "invitation-accept", "report-unsubscribe"}
# Route prefixes served by other applications: the admin's and the API's own.
OTHER_APPS = ("admin/", "api/v1/")


def named_routes(patterns=None, prefix: str = "") -> list[str]:
    """The names of every route of the URLconf, but the admin's and the API's."""
    names = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith(OTHER_APPS):
                names += named_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(pattern.name)
    return names


def seeded_pages(org, user, campaign, origin: str, invitation_link: str) -> dict[str, str]:
    """Route name -> the path opened, with the seeded tenant's objects for its ids."""
    star = Publisher.objects.for_organization(org).get(name="Star Media")
    buyer = BuyerFactory(
        organization=org, name="Night Desk", business_hours={"mon": [["09:00", "17:00"]]}
    )
    number = TrackingNumberFactory(organization=org, campaign=campaign, publisher=star)
    routing_plan_save(
        organization=org,
        campaign=campaign,
        targets=[PlanTargetInput(buyer.pk, 1, 1)],
        note="Night Desk alone",
        created_by=user,
    )
    AdSpendFactory(organization=org, campaign=campaign, publisher=star, day=dt.date.today())
    colleague = UserFactory(email="analyst@browser.test", username="analyst@browser.test")
    membership = MembershipFactory(organization=org, user=colleague, role=Role.ANALYST)
    key, _ = api_key_create(organization=org, name="zapier")
    done = CallImport.objects.create(
        organization=org,
        original_name="ringba.csv",
        format="ringba",
        status=ImportStatus.DONE,
        rows_total=3,
        rows_done=3,
        errors=[{"row": 3, "column": "callDt", "error": "not a date"}],
    )
    call = CallFactory(organization=org, campaign=campaign, publisher=star, buyer=buyer)
    # Callers from three states and a report tag, for the geography and tag pages.
    for n, each in enumerate(Call.objects.filter(organization=org).order_by("external_id")):
        each.caller_region = ("IL", "TX", "Florida")[n % 3]
        each.tags = {"source": ("google", "bing")[n % 2]}
        each.save(update_fields=["caller_region", "tags"])
    ReportTag.objects.get_or_create(organization=org, key="source")
    outsider = report_subscription_save(
        organization=org,
        email="cfo@partner.test",
        frequency=ReportFrequency.DAILY,
        filters="",
        subscribed_by=user,
    )
    # A follow-up of a missed call, so the follow-ups page shows a row with its buttons.
    followup_rule = FollowUpRule.objects.create(
        organization=org, campaign=campaign, fallback_hours={"mon": [["09:00", "17:00"]]}
    )
    missed = CallFactory(
        organization=org, campaign=campaign, publisher=star, buyer=buyer, status="missed"
    )
    FollowUp.objects.create(
        organization=org,
        call=missed,
        campaign=campaign,
        publisher=star,
        buyer=buyer,
        caller_number=missed.caller_number,
        reason="missed",
        due_at=missed.started_at,
    )
    rollups_rebuild(org)
    # An alert rule with a campaign override, an open alert and a resolved one.
    leak = AlertRule.objects.create(organization=org, kind=MISSED_CALL_RATE)
    leak.email_members.add(membership)
    override = AlertRule.objects.create(
        organization=org, kind=MISSED_CALL_RATE, campaign=campaign, thresholds={"min_calls": 5}
    )
    now = timezone.now()
    for resolved_at in (None, now):
        AlertIncident.objects.create(
            organization=org,
            rule=leak,
            kind=MISSED_CALL_RATE,
            campaign=campaign,
            subject_key=f"c{campaign.pk}" if resolved_at is None else "resolved",
            summary=f"{campaign.name}: 20.0% of 20 calls missed in the last 60 min",
            values={"calls": 20, "missed_rate_pct": 20.0, "threshold_pct": 5.0},
            last_values={"calls": 20, "missed_rate_pct": 20.0, "threshold_pct": 5.0},
            opened_at=now - dt.timedelta(hours=1),
            last_seen_at=now,
            resolved_at=resolved_at,
        )
    endpoint = WebhookEndpoint.objects.create(
        organization=org, name="CRM", url="https://crm.example.com/hooks/ppc"
    )
    # Rows, not a publish: nothing is posted to the example URL.
    event = OutboundEvent.objects.create(
        organization=org, event_type="alert.opened", idempotency_key="axe", payload={"id": "axe"}
    )
    delivery = WebhookDelivery.objects.create(
        organization=org, event=event, endpoint=endpoint, status=DeliveryStatus.FAILED,
        attempts=6, last_status_code=503, last_response_ms=41, last_error="HTTP 503",
    )  # fmt: skip
    WebhookAttempt.objects.create(
        organization=org, delivery=delivery, number=1, started_at=event.created_at,
        status_code=503, response_ms=41, error="HTTP 503",
    )  # fmt: skip
    del origin
    return {
        "home": reverse("home"),
        "campaigns": reverse("campaigns"),
        "campaign": reverse("campaign", args=[campaign.pk]),
        "publishers": reverse("publishers"),
        "publisher": reverse("publisher", args=[star.pk]),
        "call-list": reverse("call-list"),
        "call-detail": reverse("call-detail", kwargs={"pk": call.pk}),
        "followup-list": reverse("followup-list"),
        "geography": reverse("geography"),
        "tags": reverse("tags") + "?key=source",
        "reports": reverse("reports") + "?range=30",
        "login": reverse("login"),
        "invitation-accept": invitation_link,
        "settings": reverse("settings"),
        "settings-api-keys": reverse("settings-api-keys"),
        "settings-twilio": reverse("settings-twilio"),
        "settings-api-key-revoke": reverse("settings-api-key-revoke", args=[key.pk]),
        "settings-members": reverse("settings-members"),
        "settings-member-edit": reverse("settings-member-edit", args=[membership.pk]),
        "settings-member-remove": reverse("settings-member-remove", args=[membership.pk]),
        "settings-campaigns": reverse("settings-campaigns"),
        "settings-campaign-new": reverse("settings-campaign-new"),
        "settings-campaign-edit": reverse("settings-campaign-edit", args=[campaign.pk]),
        "settings-campaign-delete": reverse("settings-campaign-delete", args=[campaign.pk]),
        "settings-campaign-thresholds": reverse("settings-campaign-thresholds", args=[campaign.pk]),
        "settings-ad-spend": reverse("settings-ad-spend") + f"?campaign={campaign.pk}",
        "settings-ad-spend-upload": reverse("settings-ad-spend-upload"),
        "settings-imports": reverse("settings-imports"),
        "settings-import-detail": reverse("settings-import-detail", args=[done.pk]),
        "settings-publishers": reverse("settings-publishers"),
        "settings-publisher-new": reverse("settings-publisher-new"),
        "settings-publisher-edit": reverse("settings-publisher-edit", args=[star.pk]),
        "settings-publisher-delete": reverse("settings-publisher-delete", args=[star.pk]),
        "settings-buyers": reverse("settings-buyers"),
        "settings-buyer-new": reverse("settings-buyer-new"),
        "settings-buyer-edit": reverse("settings-buyer-edit", args=[buyer.pk]),
        "settings-buyer-delete": reverse("settings-buyer-delete", args=[buyer.pk]),
        "settings-campaign-routing": reverse("settings-campaign-routing", args=[campaign.pk]),
        "settings-campaign-routing-version": reverse(
            "settings-campaign-routing-version", args=[campaign.pk, 1]
        ),
        "settings-tracking-numbers": reverse("settings-tracking-numbers"),
        "settings-tracking-number-edit": reverse("settings-tracking-number-edit", args=[number.pk]),
        "settings-tracking-number-delete": reverse(
            "settings-tracking-number-delete", args=[number.pk]
        ),
        "settings-reports": reverse("settings-reports"),
        "report-unsubscribe": reverse(
            "report-unsubscribe", args=[report_unsubscribe_token(outsider)]
        ),
        "settings-report-tags": reverse("settings-report-tags"),
        "alerts": reverse("alerts"),
        "settings-alerts": reverse("settings-alerts"),
        "settings-alert-rule-new": reverse("settings-alert-rule-new") + "?kind=publisher_verdict",
        "settings-alert-rule-edit": reverse("settings-alert-rule-edit", args=[override.pk]),
        "settings-alert-rule-delete": reverse("settings-alert-rule-delete", args=[override.pk]),
        "settings-followups": reverse("settings-followups"),
        "settings-followup-new": reverse("settings-followup-new"),
        "settings-followup-edit": reverse("settings-followup-edit", args=[followup_rule.pk]),
        "settings-followup-delete": reverse("settings-followup-delete", args=[followup_rule.pk]),
        "settings-webhooks": reverse("settings-webhooks"),
        "settings-webhook-new": reverse("settings-webhook-new"),
        "settings-webhook-edit": reverse("settings-webhook-edit", args=[endpoint.pk]),
        "settings-webhook-delete": reverse("settings-webhook-delete", args=[endpoint.pk]),
        "settings-webhook-rotate": reverse("settings-webhook-rotate", args=[endpoint.pk]),
        "settings-webhook-deliveries": reverse("settings-webhook-deliveries"),
        "settings-webhook-delivery": reverse("settings-webhook-delivery", args=[delivery.pk]),
        "api-docs": reverse("api-docs"),
    }


def test_every_page_of_the_urlconf_is_checked(tenant, mailoutbox):
    org, user, campaign, _key = tenant
    pages = seeded_pages(org, user, campaign, "http://testserver", "/invitations/x/")
    unlisted = set(named_routes()) - set(pages) - set(NOT_PAGES)
    assert not unlisted, f"add these routes to seeded_pages() or NOT_PAGES: {sorted(unlisted)}"
    assert not set(pages) & set(NOT_PAGES)


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['impact']} {violation['id']}: {violation['help']} -> "
        + "; ".join(
            f"{' '.join(node['target'])}: {node.get('failureSummary', '')}".replace("\n", " ")
            for node in violation["nodes"][:4]
        )
        for violation in results["violations"]
        if violation["impact"] in FAILING_IMPACTS or violation["id"] in FAILING_RULES
    ]


def settle(page, url: str) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    charts_draw_all(page)
    skipped_content_draw(page)


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_passes_axe_at_desktop_and_phone_width(
    live_server, browser, tenant, mailoutbox, viewport
):
    org, user, campaign, _key = tenant
    origin = live_server.url
    invitation_create(
        organization=org, email="new@browser.test", role=Role.VIEWER, invited_by=user,
        site_url=origin,
    )  # fmt: skip
    invitation_link = re.search(r"/invitations/[\w-]+/", mailoutbox[-1].body).group(0)
    pages = seeded_pages(org, user, campaign, origin, invitation_link)
    # A tenant without calls: the overview is its first steps.
    empty = OrganizationFactory(slug="empty", name="Empty Calls")
    newcomer = UserFactory(email="new-owner@browser.test", username="new-owner@browser.test")
    Membership.objects.create(organization=empty, user=newcomer, role=Role.OWNER)

    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    found: list[str] = []

    def check(name: str, path: str) -> None:
        settle(page, origin + path)
        if name not in AXE_EXEMPT:
            found.extend(f"{name} {path} ({viewport}): {line}" for line in axe_violations(page))
        screenshot(page, f"{name}-{viewport}")

    for name in sorted(LOGGED_OUT):
        check(name, pages[name])
    for email, first in ((newcomer.email, "home-first-steps"), (user.email, None)):
        context.clear_cookies()
        settle(page, origin + reverse("login"))
        page.fill("#id_username", email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{origin}/")
        if first:
            check(first, reverse("home"))
    for name, path in pages.items():
        if name not in LOGGED_OUT:
            check(name, path)
    context.close()
    assert found == [], "\n".join(found)
