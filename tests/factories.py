"""factory-boy factories. Related objects take their organization from their parent, so a
call's campaign, publisher and buyer never straddle tenants."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from calls.models import AdSpend, Call, CallStatus, Campaign
from ppc_dashboard.tenancy.models import Membership, Organization, Role
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "America/New_York"
    currency = "USD"
    twilio_auth_token = "twilio-test-auth-token"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("pw-for-tests-123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MANAGER


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    vertical = "insurance"


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publisher

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Publisher {n}")


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Buyer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Buyer {n}")
    phone_number = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")


class TrackingNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingNumber

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"+1888555{n % 10000:04d}")
    campaign = factory.SubFactory(
        CampaignFactory, organization=factory.SelfAttribute("..organization")
    )
    publisher = factory.SubFactory(
        PublisherFactory, organization=factory.SelfAttribute("..organization")
    )


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    organization = factory.SubFactory(OrganizationFactory)
    external_id = factory.Sequence(lambda n: f"call-{n}")
    campaign = factory.SubFactory(
        CampaignFactory, organization=factory.SelfAttribute("..organization")
    )
    publisher = factory.SubFactory(
        PublisherFactory, organization=factory.SelfAttribute("..organization")
    )
    buyer = factory.SubFactory(BuyerFactory, organization=factory.SelfAttribute("..organization"))
    caller_number = "+13125550100"
    started_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC))
    duration_seconds = 120
    status = CallStatus.ANSWERED
    revenue = Decimal("40.00")
    cost = Decimal("15.00")


class AdSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdSpend

    organization = factory.SubFactory(OrganizationFactory)
    campaign = factory.SubFactory(
        CampaignFactory, organization=factory.SelfAttribute("..organization")
    )
    day = dt.date(2026, 11, 2)
    amount = Decimal("100.00")
