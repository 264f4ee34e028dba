"""Twilio callbacks: POST /hooks/twilio/<token>/ (or without the trailing slash) with Twilio's
form parameters, from the number's status callback and from <Dial action>.

The token in the URL names the tenant (an address that keeps naming none is answered 429);
X-Twilio-Signature proves the request came from Twilio, checked with the tenant's own auth
token over the URL Twilio was given (behind a TLS proxy, TRUST_X_FORWARDED makes the request's
URL that public one). A bad or missing signature is 403 and writes nothing. Each callback is
kept as a fact of its call, and the call is rewritten as the merge of all of them
(`calls.services.twilio_callback_record`).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ppc_dashboard.tenancy.errors import error_response
from ppc_dashboard.tenancy.models import Organization
from ppc_dashboard.tenancy.throttling import CredentialFailureThrottle

from .services import twilio_callback_record

logger = logging.getLogger(__name__)


def _signed_by_twilio(request: HttpRequest, auth_token: str) -> bool:
    """Twilio signs the exact URL it requested (scheme, host, path, query) and the POST body."""
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(auth_token).validate(
        request.build_absolute_uri(), request.POST, signature
    )


@csrf_exempt
@require_POST
def twilio_status_callback(request: HttpRequest, token: str) -> HttpResponse:
    received_at = timezone.now()
    organization = Organization.objects.filter(webhook_token=token).first()
    if organization is None:
        # Counted per address, but looked up first: Twilio posts every tenant's callbacks from
        # the same addresses, so one tenant's mistyped URL must never refuse another's.
        failures = CredentialFailureThrottle()
        if failures.failed(request):
            return failures.refusal()
        return error_response(404, "Unknown webhook.")
    if not organization.twilio_auth_token:
        return error_response(403, "No Twilio auth token is set for this organization.")
    if not _signed_by_twilio(request, organization.twilio_auth_token):
        logger.warning("twilio webhook: bad signature for organization %s", organization.pk)
        return error_response(403, "Invalid X-Twilio-Signature.")

    errors = twilio_callback_record(
        organization=organization, params=request.POST, received_at=received_at
    )
    if errors:
        return error_response(400, "The call is invalid.", errors=errors)
    return HttpResponse(status=204)
