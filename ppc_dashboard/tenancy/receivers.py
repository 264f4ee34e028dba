"""Login lockout bookkeeping (django-axes counts the failures; see settings)."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="tenancy.login_clears_own_failures")
def login_clears_own_failures(sender, request, user, **kwargs) -> None:
    """A login clears the failed logins of its own account, and only those.

    The failures counted against the client's address for other accounts stay: otherwise an
    attacker could log in to an account of their own between guesses and never be locked out.
    """
    username = user.get_username()
    if username:  # axes' reset with no username would clear every account's failures
        axes_reset(username=username)
