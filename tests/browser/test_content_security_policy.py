"""Every page works under the Content-Security-Policy: Chromium reports no violation.

The test opens every page a member reaches by following links from the overview and the
settings (plus the pages no link leads to: login, lockout, invitations, API docs, the admin),
works the scripts each page has (charts, the PNG download of a chart, table sorting, the filter
bar, the organization switcher, the shown-once key), and fails on any violation Chromium
reports, as a `securitypolicyviolation` event or a "Refused to ..." console message, and on
any page served without the policy.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from calls.models import CallImport, ImportStatus
from ppc_dashboard.tenancy.models import Role
from ppc_dashboard.tenancy.services import invitation_create
from tests.browser import CHROMIUM, charts_draw_all
from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

# Links that are not pages: downloads, JSON, logging out.
NOT_PAGES = re.compile(r"^/(logout/|api/v1/|api/schema/|static/|media/)|\.(csv|xlsx)$")
MAX_PAGES = 60


class Violations:
    """What Chromium reports against the policy, page by page."""

    def __init__(self, page) -> None:
        self.found: list[str] = []
        page.expose_function("reportCspViolation", self._event)
        page.add_init_script(
            """document.addEventListener("securitypolicyviolation", (event) =>
                   window.reportCspViolation(
                       `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
                       ` at ${event.sourceFile}:${event.lineNumber}`));"""
        )
        page.on("console", self._console)
        self.page = page

    def _event(self, text: str) -> None:
        self.found.append(f"{self.page.url}: {text}")

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.found.append(f"{self.page.url}: console: {message.text}")


def open_page(page, url: str) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, f"{url} is served without the policy"
    charts_draw_all(page)  # plotly.js draws under the policy too


def links_of(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or NOT_PAGES.search(parts.path):
            continue
        # Visited with its query (a create page may need one, e.g. the alert rule's kind).
        paths.append(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    return paths


def page_kind(path: str) -> str:
    """Paths that differ only in ids are the same page (one call's page is every call's), and
    a query changes no template."""
    return re.sub(r"\d+", "<id>", path.split("?", 1)[0])


def crawl(page, origin: str, starts: list[str]) -> list[str]:
    """Every kind of page linked from the starts, once (a query changes no template)."""
    seen = {page_kind(path) for path in starts}
    queue = deque(starts)
    visited = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        open_page(page, origin + path)
        visited.append(page_kind(path))
        if path.startswith("/admin/"):
            continue  # the admin is visited on its own below
        for link in links_of(page, origin):
            if page_kind(link) not in seen:
                seen.add(page_kind(link))
                queue.append(link)
    return visited


def test_no_page_breaks_the_content_security_policy(live_server, browser, tenant, mailoutbox):
    org, user, campaign, _key = tenant
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    # A second organization shows the switcher; imports have their pages (a running one
    # follows its progress through the API).
    zeta = OrganizationFactory(name="Zeta Calls")
    MembershipFactory(organization=zeta, user=user, role=Role.OWNER)
    imports = [
        CallImport.objects.create(
            organization=org, original_name=f"{status}.csv", format="native", status=status
        )
        for status in (ImportStatus.DONE, ImportStatus.RUNNING)
    ]
    origin = live_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    violations = Violations(page)

    # Logged out: the login page and an invitation to a new address.
    open_page(page, f"{origin}/login/")
    invitation_create(
        organization=org, email="new@browser.test", role=Role.VIEWER, invited_by=user,
        site_url=origin,
    )  # fmt: skip
    invitation_link = re.search(r"/invitations/[\w-]+/", mailoutbox[-1].body).group(0)
    open_page(page, origin + invitation_link)
    open_page(page, f"{origin}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/")

    visited = crawl(page, origin, ["/", "/settings/", "/api/docs/"])
    assert violations.found == []
    assert {
        "/",
        "/campaigns/",
        "/campaigns/<id>/",
        "/publishers/",
        "/publishers/<id>/",
        "/calls/",
        "/calls/<id>/",
        "/reports/weekly/",
        "/settings/members/",
        "/settings/campaigns/<id>/",
        "/settings/imports/<id>/",
    } <= set(visited)

    # The scripts of the pages: charts drawn, a chart's PNG download, sorting, the filter bar.
    open_page(page, f"{origin}/campaigns/{campaign.pk}/")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    chart = page.locator(".js-plotly-plot").first
    chart.hover()
    with page.expect_download() as download:
        chart.locator(".modebar-btn[data-title='Download plot as a PNG']").click()
    assert download.value.suggested_filename.endswith(".png")
    page.locator("table.sortable button.sort").first.click()
    page.fill("input[name=date_from]", "2026-01-01")
    page.click("#filter-bar button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "range=custom" in page.url

    # A running import follows its progress through the API.
    open_page(page, f"{origin}/settings/imports/{imports[1].pk}/")
    page.wait_for_selector("#import-status:text-is('running')")  # the API's word, not the page's

    # The switcher moves to the other organization; a new API key is selected on focus.
    open_page(page, f"{origin}/settings/")
    with page.expect_navigation():
        page.select_option("#org-switch", label="Zeta Calls")
    assert "Zeta Calls" in page.locator("#org-switch option:checked").inner_text()
    open_page(page, f"{origin}/settings/api-keys/")
    page.fill("input[name=name]", "csp test")
    page.click("button:has-text('Create key')")
    page.focus("#raw-key")

    # The admin's own pages.
    for path in [
        "/admin/",
        "/admin/tenancy/organization/",
        f"/admin/tenancy/organization/{org.pk}/change/",
    ]:
        open_page(page, origin + path)

    # Last, as it locks this address out: the lockout page.
    context.clear_cookies()
    for _ in range(6):
        page.goto(f"{origin}/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
    assert "Too many failed logins" in page.content()

    assert violations.found == []
