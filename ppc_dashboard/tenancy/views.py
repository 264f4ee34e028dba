"""Pages of an account: log in and out, the lockout, the organization switcher, and accepting
an invitation."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.http import require_POST

from .forms import InvitationSignupForm
from .models import Role
from .selectors import invitation_for_token, invitation_next_step
from .services import (
    InvitationNotPending,
    invitation_accept,
    invitation_accept_with_new_account,
    organization_switch,
)
from .throttling import CredentialFailureThrottle


class LoginView(auth_views.LoginView):
    template_name = "tenancy/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def login_locked_out(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """What django-axes answers a login while the account or the address is locked out."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "tenancy/login_locked.html",
        {"minutes": math.ceil(seconds / 60)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


@login_required
@require_POST
def organization_switch_view(request: HttpRequest) -> HttpResponse:
    try:
        organization_id = int(request.POST.get("organization", ""))
    except ValueError:
        organization_id = 0
    organization = organization_switch(request, organization_id)
    if organization is None:
        messages.error(request, "You are not a member of that organization.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return redirect(next_url)


class InvitationAcceptView(View):
    """/invitations/<token>/: the invited person joins, logged in as the invited address or
    with a new account for it; someone logged in as another address cannot accept it."""

    template_name = "tenancy/invitation_accept.html"

    def dispatch(self, request, token: str):
        failures = CredentialFailureThrottle()
        if failures.is_blocked(request):
            return self._invalid(status=429, retry_after=failures.wait())
        self.invitation = invitation_for_token(token)
        if self.invitation is None:
            failures.failed(request)
            return self._invalid()
        response = super().dispatch(request, token)
        add_never_cache_headers(response)  # the page carries the link's secret in its URL
        return response

    def _invalid(self, status: int = 404, retry_after: float | None = None) -> HttpResponse:
        response = render(self.request, "tenancy/invitation_invalid.html", status=status)
        if retry_after is not None:
            response["Retry-After"] = str(int(retry_after))
        return response

    def _page(self, step: str, form: InvitationSignupForm | None = None, status: int = 200):
        context = {
            "invitation": self.invitation,
            "role": Role(self.invitation.role).label,
            "step": step,
            "form": form or InvitationSignupForm(email=self.invitation.email),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, token: str):
        return self._page(invitation_next_step(self.invitation, self.request.user))

    def post(self, request, token: str):
        step = invitation_next_step(self.invitation, self.request.user)
        try:
            if step == "join":
                invitation_accept(invitation=self.invitation, user=request.user)
            elif step == "sign_up":
                form = InvitationSignupForm(request.POST, email=self.invitation.email)
                if not form.is_valid():
                    return self._page(step, form, status=400)
                user, _ = invitation_accept_with_new_account(
                    invitation=self.invitation, password=form.cleaned_data["password1"]
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return self._page(step, status=403)
        except InvitationNotPending:
            return self._invalid()
        except ValueError:  # the address got an account meanwhile: log in to accept
            return self._page(invitation_next_step(self.invitation, self.request.user), status=409)
        organization_switch(request, self.invitation.organization_id)
        messages.success(
            request,
            f"You joined {self.invitation.organization.name} as "
            f"{Role(self.invitation.role).label}.",
        )
        return redirect("home")
