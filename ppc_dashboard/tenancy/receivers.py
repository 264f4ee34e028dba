"""Login lockout bookkeeping (django-axes counts the failures; see settings), and the
remembered API keys forgotten when a key or an organization changes."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiKey, Organization
from .services import api_keys_forget


@receiver(user_logged_in, dispatch_uid="tenancy.login_clears_own_failures")
def login_clears_own_failures(sender, request, user, **kwargs) -> None:
    """A login clears the failed logins of its own account, and only those.

    The failures counted against the client's address for other accounts stay: otherwise an
    attacker could log in to an account of their own between guesses and never be locked out.
    """
    username = user.get_username()
    if username:  # axes' reset with no username would clear every account's failures
        axes_reset(username=username)


@receiver(post_save, sender=ApiKey, dispatch_uid="tenancy.api_key_saved_forgets_keys")
@receiver(post_delete, sender=ApiKey, dispatch_uid="tenancy.api_key_deleted_forgets_keys")
@receiver(post_save, sender=Organization, dispatch_uid="tenancy.organization_saved_forgets_keys")
@receiver(
    post_delete, sender=Organization, dispatch_uid="tenancy.organization_deleted_forgets_keys"
)
def remembered_api_keys_forgotten(sender, **kwargs) -> None:
    """A revoked key stops working in this process at once (see services.api_key_remembered)."""
    api_keys_forget()
