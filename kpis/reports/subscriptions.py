"""Report subscriptions: who gets the report, how often, and the signed link that stops it.

A manager subscribes any member or any address (`report_subscription_save`); an address that
is a member's is stored as that member, so the report stops when they leave the organization.
Every mail carries a link with a signed token naming the subscription and its address
(`report_unsubscribe_token`): whoever holds the mail can stop it without an account, and the
token opens nothing else (another subscription, another tenant's, a forged or altered one).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction

from kpis.models import ReportFrequency, ReportSubscription
from ppc_dashboard.tenancy.models import Membership, Organization

_UNSUBSCRIBE_SALT = "kpis.reports.unsubscribe"


def member_by_email(organization: Organization, email: str) -> User | None:
    """The member of the organization whose account has this address, if any."""
    membership = (
        Membership.objects.for_organization(organization)
        .filter(user__email__iexact=email)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


@transaction.atomic
def report_subscription_save(
    *,
    organization: Organization,
    frequency: ReportFrequency | str,
    filters: str,
    subscribed_by: User | None,
    user: User | None = None,
    email: str = "",
) -> ReportSubscription:
    """Subscribe a member (`user`) or an address (`email`) to the report, or change the
    frequency and filters of their subscription. The caller checks that `user` is a member.

    A changed frequency forgets what was last sent: the last day sent of a daily report is
    later than the Monday a weekly one is due for, which would skip that week.
    """
    if (user is None) == (not email):
        raise ValueError("a report subscription is for a member or an address, not both")
    email = email.strip().lower()
    if user is None:
        user = member_by_email(organization, email)
    recipient = {"user": user} if user is not None else {"email": email}
    subscription, created = (
        ReportSubscription.objects.for_organization(organization)
        .select_for_update()
        .get_or_create(
            organization=organization,
            **recipient,
            defaults={"frequency": frequency, "filters": filters, "subscribed_by": subscribed_by},
        )
    )
    if not created:
        if subscription.frequency != frequency:
            subscription.last_sent_from = None
        subscription.frequency = frequency
        subscription.filters = filters
        subscription.save(update_fields=["frequency", "filters", "last_sent_from"])
    return subscription


def report_unsubscribe_token(subscription: ReportSubscription) -> str:
    """The signed token of a subscription's unsubscribe link: its id and its address."""
    return signing.dumps(
        {"id": subscription.pk, "to": subscription.recipient}, salt=_UNSUBSCRIBE_SALT
    )


class UnsubscribeTokenInvalid(Exception):
    """A token that was not signed by us, or was altered."""


def report_subscription_for_token(token: str) -> ReportSubscription | None:
    """The subscription an unsubscribe token names, or None when it is gone already (or its
    recipient's address changed since the mail: the token was for the old address).

    Raises UnsubscribeTokenInvalid for a token that is not ours."""
    try:
        payload = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
        subscription_id, address = int(payload["id"]), str(payload["to"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise UnsubscribeTokenInvalid from error
    # The token, not a session, says whose subscription this is: no tenant to scope by.
    subscription = (
        ReportSubscription.objects.select_related("organization", "user")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None or subscription.recipient.lower() != address.lower():
        return None
    return subscription
