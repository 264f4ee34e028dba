"""CSV presets by name. Each module documents its column and status mapping."""

from .asterisk import AsteriskPreset
from .base import Preset, RowError
from .callrail import CallRailPreset
from .invoca import InvocaPreset
from .native import NativePreset
from .retreaver import RetreaverPreset
from .ringba import RingbaPreset
from .twilio import TwilioPreset

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        NativePreset(),
        RingbaPreset(),
        RetreaverPreset(),
        InvocaPreset(),
        CallRailPreset(),
        TwilioPreset(),
        AsteriskPreset(),
    )
}

__all__ = ["PRESETS", "Preset", "RowError"]
