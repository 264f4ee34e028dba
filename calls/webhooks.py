"""Twilio callbacks: POST /hooks/twilio/<token>/ (or without the trailing slash) with Twilio's
form parameters, from the number's status callback and from <Dial action>.

The token in the URL names the tenant (an address that keeps naming none is answered 429);
X-Twilio-Signature proves the request came from Twilio, checked with the tenant's own auth
token over the URL Twilio was given (behind a TLS proxy, TRUST_X_FORWARDED makes the request's
URL that public one). A bad or missing signature is 403 and writes nothing. Each callback is
kept as a fact of its call, and the call is rewritten as the merge of all of them
(`calls.services.twilio_callback_record`).

Live routing: POST /hooks/twilio/<token>/voice (the number's Voice URL) answers TwiML that
dials the call's first destination, with `action` .../voice/action?leg=&buyer=&plan=&tried=
(signed by Twilio with its query); that action frees the buyer's slot and answers the next
<Dial>, or <Hangup/> (`calls.live_routing`). A ringing caller never gets a 500: an error
is logged and the caller hears an apology.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from ppc_dashboard.tenancy.errors import error_response
from ppc_dashboard.tenancy.models import Organization
from ppc_dashboard.tenancy.throttling import CredentialFailureThrottle

from .live_routing import (
    NO_ROUTE_MESSAGE,
    VoiceStep,
    voice_call_ended,
    voice_call_start,
    voice_dial_ended,
    voice_leg_answered,
)
from .services import twilio_callback_record

logger = logging.getLogger(__name__)


def _signed_by_twilio(request: HttpRequest, auth_token: str) -> bool:
    """Twilio signs the exact URL it requested (scheme, host, path, query) and the POST body."""
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(auth_token).validate(
        request.build_absolute_uri(), request.POST, signature
    )


def _twilio_tenant(request: HttpRequest, token: str) -> Organization | HttpResponse:
    """The tenant the webhook URL names, when Twilio signed the request; else the refusal."""
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
    return organization


@csrf_exempt
@require_POST
def twilio_status_callback(request: HttpRequest, token: str) -> HttpResponse:
    received_at = timezone.now()
    organization = _twilio_tenant(request, token)
    if isinstance(organization, HttpResponse):
        return organization
    errors = twilio_callback_record(
        organization=organization, params=request.POST, received_at=received_at
    )
    if errors:
        return error_response(400, "The call is invalid.", errors=errors)
    voice_call_ended(organization=organization, params=request.POST)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest, token: str) -> HttpResponse:
    """The tracking number's Voice URL: TwiML that dials the call's first destination."""
    received_at = timezone.now()
    organization = _twilio_tenant(request, token)
    if isinstance(organization, HttpResponse):
        return organization
    try:
        step = voice_call_start(
            organization=organization, params=request.POST, received_at=received_at
        )
    except Exception:
        # A caller is on the line: an apology beats Twilio's "application error".
        logger.exception("live routing failed for call %s", request.POST.get("CallSid"))
        step = VoiceStep(message=NO_ROUTE_MESSAGE)
    return _twiml(request, token, step)


@csrf_exempt
@require_POST
def twilio_voice_action(request: HttpRequest, token: str) -> HttpResponse:
    """A buyer's <Dial> ended: hang up when it was answered, else dial the next one."""
    received_at = timezone.now()
    organization = _twilio_tenant(request, token)
    if isinstance(organization, HttpResponse):
        return organization
    try:
        leg, buyer_id, plan_id = (int(request.GET[name]) for name in ("leg", "buyer", "plan"))
        tried = tuple(int(part) for part in request.GET.get("tried", "").split(",") if part)
    except (KeyError, ValueError):
        return error_response(400, "The action URL lacks leg, buyer or plan.")
    try:
        step = voice_dial_ended(
            organization=organization,
            params=request.POST,
            received_at=received_at,
            leg=leg,
            buyer_id=buyer_id,
            plan_id=plan_id,
            tried=tried,
        )
    except Exception:
        logger.exception("live routing failed for call %s", request.POST.get("CallSid"))
        step = VoiceStep(message=NO_ROUTE_MESSAGE)
    return _twiml(request, token, step)


@csrf_exempt
@require_POST
def twilio_voice_answered(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer's leg was answered (<Number statusCallbackEvent="answered">): its slot is
    refreshed to last the longest call from now."""
    received_at = timezone.now()
    organization = _twilio_tenant(request, token)
    if isinstance(organization, HttpResponse):
        return organization
    parent = request.POST.get("ParentCallSid", "")
    buyer = request.GET.get("buyer", "")
    if not parent or not buyer.isdigit() or len(parent) > 64:
        return error_response(400, "The answered callback lacks ParentCallSid or buyer.")
    voice_leg_answered(
        organization=organization, call_sid=parent, buyer_id=int(buyer), at=received_at
    )
    return HttpResponse(status=204)


def _twiml(request: HttpRequest, token: str, step: VoiceStep) -> HttpResponse:
    response = VoiceResponse()
    if step.dial is not None:
        query = urlencode(
            {
                "leg": step.leg,
                "buyer": step.dial.target_id,
                "plan": step.plan_id,
                "tried": ",".join(str(target_id) for target_id in step.tried),
            }
        )
        action = reverse("twilio-voice-action", args=[token])
        dial = response.dial(
            action=f"{request.build_absolute_uri(action)}?{query}",
            method="POST",
            timeout=step.dial.ring_timeout_seconds,
            answer_on_bridge=True,
        )
        answered = reverse("twilio-voice-answered", args=[token])
        dial.number(
            step.dial.destination,
            status_callback=f"{request.build_absolute_uri(answered)}?buyer={step.dial.target_id}",
            status_callback_event="answered",
            status_callback_method="POST",
        )
    else:
        if step.message:
            response.say(step.message)
        response.hangup()
    return HttpResponse(str(response), content_type="text/xml")
