"""`native`: our own columns, the same names as the REST API's call fields.

Columns: external_id, started_at, status (answered / missed / no_buyer / abandoned / failed),
duration_seconds, campaign_name (or campaign_id), publisher_name (or publisher_id), buyer_name
(or buyer_id), tracking_number, caller_number, caller_region, converted, converted_at, revenue,
cost, and any number of `tag:<name>` columns. Status values are ours, so there is no mapping.
The column mapping is the identity; headers match without regard to case, spaces and
punctuation, so a spreadsheet's "External ID" or "Started At" is external_id or started_at.
"""

from __future__ import annotations

from ..ingest import CALL_INPUT_FIELDS
from ..models import CallSource
from .base import Column, Item, Preset, Row, cell, tags_from_columns

REQUIRED = ("external_id", "started_at", "status")


class NativePreset(Preset):
    name = "native"
    source = CallSource.NATIVE
    columns = tuple(
        Column(field, (field,), required=field in REQUIRED)
        for field in sorted(CALL_INPUT_FIELDS - {"tags"})
    )

    def to_item(self, row: Row, extra: Row) -> Item:
        item: Item = {name: cell(row, name) for name in row if cell(row, name)}
        tags = tags_from_columns(extra, "tag:")
        if tags:
            item["tags"] = tags
        return item
