"""Twilio status callback: POST /hooks/twilio/<token>/ with Twilio's form parameters.

The token in the URL names the tenant; X-Twilio-Signature proves the request came from Twilio,
checked with the tenant's own auth token. A bad or missing signature is 403 and writes nothing.
Only finished inbound calls are recorded; earlier callbacks of a call are acknowledged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ppc_dashboard.tenancy.models import Organization

from .importers.twilio import twilio_status_to_call_status
from .ingest import call_records_upsert, validate_call_item
from .models import CallSource
from .parsing import parse_seconds

logger = logging.getLogger(__name__)


def _event_time(raw: str) -> dt.datetime:
    try:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        parsed = None
    return parsed or dt.datetime.now(tz=dt.UTC)


def twilio_params_to_item(params) -> dict | None:
    """A call item from Twilio's callback parameters; None when there is nothing to record."""
    direction = params.get("Direction", "inbound")
    if direction and not direction.startswith("inbound"):
        return None  # child legs (outbound-dial) belong to the inbound call that made them
    # A <Dial action> callback says what happened with the buyer: prefer it when present.
    if params.get("DialCallStatus"):
        twilio_status = params["DialCallStatus"]
        raw_duration = params.get("DialCallDuration") or "0"
    else:
        twilio_status = params.get("CallStatus", "")
        raw_duration = params.get("CallDuration") or "0"
    try:
        duration = parse_seconds(raw_duration)
    except ValueError:
        duration = -1
    status = twilio_status_to_call_status(twilio_status, max(duration, 0))
    if status is None:
        return None
    ended_at = _event_time(params.get("Timestamp", ""))
    whole_call = parse_seconds(params.get("CallDuration") or "0") if duration >= 0 else 0
    item = {
        "external_id": params.get("CallSid", ""),
        "started_at": (ended_at - dt.timedelta(seconds=whole_call)).isoformat(),
        "status": status,
        "duration_seconds": raw_duration if duration < 0 else duration,
        "tracking_number": params.get("To", ""),
        "caller_number": params.get("From", ""),
        "caller_region": params.get("FromState") or params.get("CallerState") or "",
    }
    return {key: value for key, value in item.items() if value not in ("", None)}


@csrf_exempt
@require_POST
def twilio_status_callback(request: HttpRequest, token: str) -> HttpResponse:
    organization = Organization.objects.filter(webhook_token=token).first()
    if organization is None:
        return JsonResponse({"detail": "Unknown webhook."}, status=404)
    if not organization.twilio_auth_token:
        return JsonResponse(
            {"detail": "No Twilio auth token is set for this organization."}, status=403
        )
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(organization.twilio_auth_token)
    if not signature or not validator.validate(
        request.build_absolute_uri(), request.POST, signature
    ):
        logger.warning("twilio webhook: bad signature for organization %s", organization.pk)
        return JsonResponse({"detail": "Invalid X-Twilio-Signature."}, status=403)

    item = twilio_params_to_item(request.POST)
    if item is None:
        return HttpResponse(status=204)
    record, errors = validate_call_item(item, organization.tzinfo)
    if errors:
        return JsonResponse({"detail": "The call is invalid.", "errors": errors}, status=400)
    result = call_records_upsert(
        organization=organization,
        records=[record],
        source=CallSource.TWILIO_WEBHOOK,
        require_campaign=False,  # a call to an unknown number is still a call that happened
    )
    if not result.ok:
        return JsonResponse({"detail": "The call is invalid.", "errors": result.errors[0]}, 400)
    return HttpResponse(status=204)
