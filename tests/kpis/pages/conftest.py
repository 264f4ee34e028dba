import datetime as dt
from decimal import Decimal

import pytest

from kpis.rollups import rollups_rebuild
from tests.factories import BuyerFactory, CampaignFactory, PublisherFactory

from .traffic import DAY, _calls


@pytest.fixture
def traffic(org):
    """Star converts 30% (scale); Weak 1 in 60 with a routing leak (cut)."""
    campaign = CampaignFactory(
        organization=org, name="Auto", vertical="insurance", rpm_floor=Decimal("2.00")
    )
    star = PublisherFactory(organization=org, name="Star")
    weak = PublisherFactory(organization=org, name="Weak")
    buyer = BuyerFactory(organization=org, name="Call Center")
    _calls(org, campaign, star, buyer, count=40, converted=12, missed=1)
    _calls(org, campaign, weak, buyer, count=60, converted=1, missed=6)
    # The week before: fewer calls, so the calls tile goes up.
    last_week = DAY - dt.timedelta(days=7)
    _calls(org, campaign, star, buyer, count=20, converted=6, missed=0, start=last_week)
    rollups_rebuild(org)
    return {"campaign": campaign, "star": star, "weak": weak, "buyer": buyer}
