"""CSV presets by name. Each module documents its column and status mapping."""

from .base import Preset, RowError
from .native import NativePreset

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (NativePreset(),)}

__all__ = ["PRESETS", "Preset", "RowError"]
