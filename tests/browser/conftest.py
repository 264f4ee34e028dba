"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a tenant with
calls to show."""

import datetime as dt
import os
from decimal import Decimal

import pytest

from kpis.rollups import rollups_rebuild
from ppc_dashboard.tenancy.models import Role
from ppc_dashboard.tenancy.services import api_key_create
from tests.browser import CHROMIUM
from tests.factories import (
    CallFactory,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    PublisherFactory,
    UserFactory,
)


@pytest.fixture(scope="module", autouse=True)
def _allow_orm_next_to_playwright():
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test body
    # are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def tenant(transactional_db):
    org = OrganizationFactory(slug="browser", name="Browser Media", timezone="America/New_York")
    user = UserFactory(username="owner@browser.test", email="owner@browser.test")
    MembershipFactory(organization=org, user=user, role=Role.OWNER)
    campaign = CampaignFactory(organization=org, name="Auto Insurance", vertical="insurance")
    star = PublisherFactory(organization=org, name="Star Media")
    weak = PublisherFactory(organization=org, name="Weak Media")
    now = dt.datetime.now(tz=dt.UTC).replace(minute=0, second=0, microsecond=0)
    for n in range(80):
        publisher = star if n % 2 else weak
        converted = publisher == star and n % 3 == 0
        CallFactory(
            organization=org,
            external_id=f"b{n}",
            campaign=campaign,
            publisher=publisher,
            buyer=None,
            started_at=now - dt.timedelta(days=n % 20, hours=n % 7),
            status="answered" if n % 6 else "missed",
            duration_seconds=(240 if publisher == star else 40) if n % 6 else 0,
            converted=converted,
            revenue=Decimal("60") if converted else Decimal("0"),
            cost=Decimal("12"),
            caller_number=f"+1312555{n:04d}",
        )
    rollups_rebuild(org)
    _, key = api_key_create(organization=org, name="browser test")
    return org, user, campaign, key
