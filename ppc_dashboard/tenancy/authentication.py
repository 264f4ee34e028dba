"""API key authentication: `Authorization: Api-Key <key>` or `X-Api-Key: <key>`."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .services import api_key_lookup, api_key_remembered
from .throttling import TOO_MANY_FAILURES, CredentialFailureThrottle


class ApiKeyUser(AnonymousUser):
    """The principal of an API-key request: authenticated, but not a person."""

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        raw_key = request.META.get("HTTP_X_API_KEY", "")
        if not raw_key:
            header = authentication.get_authorization_header(request).decode("latin-1")
            scheme, _, value = header.partition(" ")
            if scheme.lower() != self.keyword.lower():
                return None
            raw_key = value.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        api_key = api_key_remembered(raw_key)
        if api_key is None:
            # An address that keeps sending wrong keys is refused before any lookup, whatever
            # key it sends next; requests with a valid key are never counted.
            failures = CredentialFailureThrottle()
            if failures.is_blocked(request):
                raise exceptions.Throttled(wait=failures.wait(), detail=TOO_MANY_FAILURES)
            api_key = api_key_lookup(raw_key)
            if api_key is None:
                failures.failed(request)
                raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key.mark_used()
        return ApiKeyUser(), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to a missing key.
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "ppc_dashboard.tenancy.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "A key made with `manage.py create_api_key` or on the settings page. "
            "`Authorization: Api-Key <key>` works too.",
        }
