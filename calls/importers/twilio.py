"""`twilio`: Twilio's call log, and the one home of Twilio's CallStatus -> our status mapping.

Status mapping (KPIS.md), shared by the CSV preset and the status callback webhook:

| Twilio CallStatus / DialCallStatus | duration | our status |
| --- | --- | --- |
| completed | > 0 s | answered |
| completed | 0 s | missed (nobody talked: treated as a ring without pickup) |
| no-answer, busy | any | missed |
| failed | any | failed |
| canceled | any | abandoned (the caller hung up before anyone answered) |
| queued, initiated, ringing, in-progress | - | not final: nothing is recorded yet |
"""

from __future__ import annotations

from ..models import CallStatus

FINAL_TWILIO_STATUSES = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})


def twilio_status_to_call_status(twilio_status: str, duration_seconds: int) -> str | None:
    """Our status for a Twilio call status, or None while the call is not over."""
    value = twilio_status.strip().lower().replace("_", "-").replace(" ", "-")
    if value == "completed":
        return CallStatus.ANSWERED if duration_seconds > 0 else CallStatus.MISSED
    if value in {"no-answer", "busy"}:
        return CallStatus.MISSED
    if value == "failed":
        return CallStatus.FAILED
    if value == "canceled" or value == "cancelled":
        return CallStatus.ABANDONED
    return None
