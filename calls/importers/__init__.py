"""CSV presets by name. Each module documents its column and status mapping."""

from .asterisk import AsteriskPreset
from .base import ImportOptions, ImportOptionsError, Preset, RowError, Skip
from .callrail import CallRailPreset
from .invoca import InvocaPreset
from .native import NativePreset
from .retreaver import RetreaverPreset
from .ringba import RingbaPreset
from .twilio import TwilioPreset

PRESETS: dict[str, type[Preset]] = {
    preset.name: preset
    for preset in (
        NativePreset,
        RingbaPreset,
        RetreaverPreset,
        InvocaPreset,
        CallRailPreset,
        TwilioPreset,
        AsteriskPreset,
    )
}


def preset_for(import_format: str, options: ImportOptions | None = None) -> Preset:
    """A preset to read one file of `import_format`, with the import's options."""
    return PRESETS[import_format](options)


__all__ = [
    "PRESETS",
    "ImportOptions",
    "ImportOptionsError",
    "Preset",
    "RowError",
    "Skip",
    "preset_for",
]
