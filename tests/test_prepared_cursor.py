"""ppc_dashboard.db.prepared_cursor: the queries asked on every ringing call are prepared on
PostgreSQL, and still counted and wrapped like any other query."""

from __future__ import annotations

import pytest
from django.db import connection

from ppc_dashboard.db import prepared_cursor
from routing.selectors import plan_rules_current
from tests.factories import BuyerFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares")
def test_a_routing_decisions_plan_stamp_is_a_prepared_statement(org):
    from routing.services import PlanTargetInput, routing_plan_save

    campaign = CampaignFactory(organization=org)
    buyer = BuyerFactory(organization=org)
    routing_plan_save(
        organization=org, campaign=campaign, targets=[PlanTargetInput(buyer.pk, 1, 1)]
    )
    assert plan_rules_current(campaign).targets[0].target_id == buyer.pk
    assert any("MAX(b.updated_at)" in statement for statement in _prepared_statements())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares")
def test_other_queries_stay_unprepared(org):
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s + 1", [41])
        assert cursor.fetchone() == (42,)
    CampaignFactory(organization=org, name="Not prepared")
    list(type(org).objects.filter(slug="not-prepared-either"))
    statements = _prepared_statements()
    assert any("+ 1" in statement for statement in statements)
    assert not any("not-prepared" in s or "calls_campaign" in s for s in statements)


def test_its_queries_are_counted_as_any_other(django_assert_num_queries):
    with django_assert_num_queries(1), prepared_cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
