"""The one way call records get in: validate items, resolve names, upsert by external id.

The REST API (one call or a batch), CSV imports and the Twilio webhook all end here, so the
rules (what a valid call is, how names resolve, idempotency) live in one place. Validation is
plain Python rather than DRF serializers: a batch of 5,000 calls validates in milliseconds, and
errors keep the DRF shape `{field: [message, ...]}` per item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from ppc_dashboard.db import atomic_retried
from ppc_dashboard.tenancy.models import Organization
from publishers.models import Publisher
from routing.models import Buyer, TrackingNumber
from routing.phone_numbers import (
    DEFAULT_COUNTRY,
    PhoneNumberError,
    call_number_normalized,
    caller_number_normalized,
)

from .models import Call, CallSource, CallStatus, Campaign
from .parsing import parse_bool, parse_datetime, parse_money, parse_seconds
from .repeat_calls import repeat_flags_rederive
from .signals import calls_bulk_written, calls_changed

FieldErrors = dict[str, list[str]]

# Every field a call item may carry; anything else is refused, so typos do not vanish silently.
CALL_INPUT_FIELDS = frozenset(
    {
        "external_id",
        "campaign_id",
        "campaign_name",
        "publisher_id",
        "publisher_name",
        "buyer_id",
        "buyer_name",
        "tracking_number",
        "caller_number",
        "caller_region",
        "started_at",
        "duration_seconds",
        "status",
        "converted",
        "converted_at",
        "revenue",
        "cost",
        "tags",
    }
)
# Written on every upsert. Conversion fields are kept from the stored call when an item omits
# them, so a platform re-sending a call does not wipe a conversion posted later.
CONVERSION_FIELDS = ("converted", "converted_at", "revenue")
UPSERT_FIELDS = [
    "campaign",
    "publisher",
    "buyer",
    "tracking_number",
    "dialed_number",
    "caller_number",
    "caller_region",
    "started_at",
    "duration_seconds",
    "status",
    "converted",
    "converted_at",
    "revenue",
    "cost",
    "source",
    "tags",
    # Reset on every write; repeat_flags_rederive then sets the calls that are repeats.
    "is_repeat",
    "updated_at",
]
MAX_TAGS = 50
MAX_TAG_KEY_CHARS = 100
MAX_TAG_VALUE_CHARS = 500
# A batch that deadlocks or loses its connection is run this many times in all before the
# error reaches the client.
CALL_UPSERT_ATTEMPTS = 3
CALL_STATUSES = frozenset(CallStatus.values)  # enum .values is rebuilt on every access


@dataclass(slots=True)
class CallRecord:
    """A validated call item; names are still names until `resolve_references`."""

    external_id: str
    started_at: dt.datetime
    status: str
    duration_seconds: int = 0
    campaign_id: int | None = None
    campaign_name: str = ""
    publisher_id: int | None = None
    publisher_name: str = ""
    buyer_id: int | None = None
    buyer_name: str = ""
    tracking_number: str = ""
    caller_number: str = ""
    caller_region: str = ""
    converted: bool = False
    converted_at: dt.datetime | None = None
    revenue: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    tags: dict[str, Any] = field(default_factory=dict)
    # Which of CONVERSION_FIELDS the item actually carried.
    given_conversion_fields: frozenset[str] = frozenset()


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    # item index -> field errors; empty when everything was written.
    errors: dict[int, FieldErrors] = field(default_factory=dict)
    written_indexes: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value: object, name: str, errors: FieldErrors, max_length: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        errors.setdefault(name, []).append("Must be a string.")
        return ""
    text = str(value).strip()
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail the batch later.
        errors.setdefault(name, []).append("Null characters are not allowed.")
        return ""
    if len(text) > max_length:
        errors.setdefault(name, []).append(f"At most {max_length} characters.")
    return text


def _positive_id(value: object, name: str, errors: FieldErrors) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.setdefault(name, []).append("Must be an integer id.")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append("Must be an integer id.")
        return None
    if number <= 0 or number >= 2**63:
        errors.setdefault(name, []).append("Must be a positive integer id.")
        return None
    return number


def validate_call_item(
    item: object, organization_tz: dt.tzinfo, country: str = DEFAULT_COUNTRY
) -> tuple[CallRecord | None, FieldErrors]:
    """Check one call item (a JSON object or a mapped CSV row). No database access.

    Naive times are read in `organization_tz`, numbers without a country code in `country`
    (the tenant's).
    """
    if not isinstance(item, Mapping):
        return None, {"non_field_errors": ["Each call must be a JSON object."]}
    errors: FieldErrors = {}
    unknown = sorted(str(key) for key in item if key not in CALL_INPUT_FIELDS)
    for key in unknown:
        errors[key] = ["Unknown field."]

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    external_id = _text(item.get("external_id"), "external_id", errors, 128)
    if not external_id and "external_id" not in errors:
        add("external_id", "This field is required.")

    started_at = None
    if item.get("started_at") in (None, ""):
        add("started_at", "This field is required.")
    else:
        try:
            started_at = parse_datetime(item["started_at"], organization_tz)
        except ValueError as exc:
            add("started_at", str(exc))

    status = item.get("status")
    if status in (None, ""):
        add("status", "This field is required.")
    elif not isinstance(status, str) or status not in CALL_STATUSES:
        shown = status[:20] + "..." if isinstance(status, str) and len(status) > 20 else status
        add("status", f"'{shown}' is not one of {', '.join(CallStatus.values)}.")

    record_values: dict[str, Any] = {}
    try:
        record_values["duration_seconds"] = parse_seconds(item.get("duration_seconds"))
    except ValueError as exc:
        add("duration_seconds", str(exc))
    for name in ("revenue", "cost"):
        try:
            record_values[name] = parse_money(item.get(name))
        except ValueError as exc:
            add(name, str(exc))
    try:
        record_values["converted"] = parse_bool(item.get("converted", False))
    except ValueError as exc:
        add("converted", str(exc))
    if item.get("converted_at") not in (None, ""):
        try:
            record_values["converted_at"] = parse_datetime(item["converted_at"], organization_tz)
        except ValueError as exc:
            add("converted_at", str(exc))
        if record_values.get("converted") is False and "converted" in item:
            add("converted_at", "Only a converted call has a conversion time.")
        else:
            record_values["converted"] = True

    for name in ("campaign_id", "publisher_id", "buyer_id"):
        record_values[name] = _positive_id(item.get(name), name, errors)
    for name in ("campaign_name", "publisher_name", "buyer_name"):
        record_values[name] = _text(item.get(name), name, errors, 200)
    record_values["caller_region"] = _text(item.get("caller_region"), "caller_region", errors, 64)

    tracking = _text(item.get("tracking_number"), "tracking_number", errors, 32)
    if tracking and "tracking_number" not in errors:
        try:
            record_values["tracking_number"] = call_number_normalized(tracking, country)
        except PhoneNumberError as exc:
            add("tracking_number", str(exc))
    caller = _text(item.get("caller_number"), "caller_number", errors, 64)
    if caller and "caller_number" not in errors:
        try:
            record_values["caller_number"] = caller_number_normalized(caller, country)
        except PhoneNumberError as exc:
            add("caller_number", str(exc))

    tags = item.get("tags")
    if tags not in (None, ""):
        if not isinstance(tags, Mapping):
            add("tags", "Must be an object of name -> value.")
        elif len(tags) > MAX_TAGS:
            add("tags", f"At most {MAX_TAGS} tags.")
        elif any(isinstance(v, dict | list) for v in tags.values()):
            add("tags", "Tag values must be strings, numbers or booleans.")
        elif any("\x00" in str(k) or "\x00" in str(v) for k, v in tags.items()):
            add("tags", "Null characters are not allowed.")
        elif any(len(str(k)) > MAX_TAG_KEY_CHARS for k in tags):
            add("tags", f"Tag names are at most {MAX_TAG_KEY_CHARS} characters.")
        elif any(isinstance(v, str) and len(v) > MAX_TAG_VALUE_CHARS for v in tags.values()):
            add("tags", f"Tag values are at most {MAX_TAG_VALUE_CHARS} characters.")
        else:
            record_values["tags"] = {str(k): v for k, v in tags.items()}

    if errors:
        return None, errors
    given = frozenset(name for name in CONVERSION_FIELDS if item.get(name) not in (None, ""))
    if "converted_at" in given:
        given |= {"converted"}
    return (
        CallRecord(
            external_id=external_id,
            started_at=started_at,  # type: ignore[arg-type]
            status=str(status),
            given_conversion_fields=given,
            **record_values,
        ),
        {},
    )


def validate_call_items(
    items: Sequence[object], organization_tz: dt.tzinfo, country: str = DEFAULT_COUNTRY
) -> tuple[list[CallRecord | None], dict[int, FieldErrors]]:
    records: list[CallRecord | None] = []
    errors: dict[int, FieldErrors] = {}
    for index, item in enumerate(items):
        record, item_errors = validate_call_item(item, organization_tz, country)
        records.append(record)
        if item_errors:
            errors[index] = item_errors
    return records, errors


@dataclass
class _References:
    campaigns_by_id: dict[int, Campaign]
    campaigns_by_name: dict[str, Campaign]
    publishers_by_id: dict[int, Publisher]
    publishers_by_name: dict[str, Publisher]
    buyers_by_id: dict[int, Buyer]
    buyers_by_name: dict[str, Buyer]
    tracking_by_number: dict[str, TrackingNumber]


def _names_to_objects(
    model: type, organization: Organization, names: set[str], create_missing: bool
) -> dict[str, Any]:
    scoped = model.objects.for_organization(organization)
    found = {obj.name: obj for obj in scoped.filter(name__in=names)} if names else {}
    missing = names - found.keys()
    if missing and create_missing:
        # ignore_conflicts + re-read: a concurrent batch creating the same name is harmless.
        model.objects.bulk_create(
            [model(organization=organization, name=name) for name in sorted(missing)],
            ignore_conflicts=True,
        )
        found.update({obj.name: obj for obj in scoped.filter(name__in=missing)})
    return found


def _load_references(
    organization: Organization, records: Iterable[CallRecord], create_missing: bool
) -> _References:
    ids: dict[str, set[int]] = {"campaign": set(), "publisher": set(), "buyer": set()}
    names: dict[str, set[str]] = {"campaign": set(), "publisher": set(), "buyer": set()}
    numbers: set[str] = set()
    for record in records:
        for kind in ("campaign", "publisher", "buyer"):
            if getattr(record, f"{kind}_id"):
                ids[kind].add(getattr(record, f"{kind}_id"))
            elif getattr(record, f"{kind}_name"):
                names[kind].add(getattr(record, f"{kind}_name"))
        if record.tracking_number:
            numbers.add(record.tracking_number)

    def by_id(model: type, kind: str) -> dict[int, Any]:
        if not ids[kind]:
            return {}
        rows = model.objects.for_organization(organization).filter(id__in=ids[kind])
        return {obj.id: obj for obj in rows}

    tracking = (
        {
            t.number: t
            for t in TrackingNumber.objects.for_organization(organization).filter(
                number__in=numbers
            )
        }
        if numbers
        else {}
    )
    return _References(
        campaigns_by_id=by_id(Campaign, "campaign"),
        campaigns_by_name=_names_to_objects(
            Campaign, organization, names["campaign"], create_missing
        ),
        publishers_by_id=by_id(Publisher, "publisher"),
        publishers_by_name=_names_to_objects(
            Publisher, organization, names["publisher"], create_missing
        ),
        buyers_by_id=by_id(Buyer, "buyer"),
        buyers_by_name=_names_to_objects(Buyer, organization, names["buyer"], create_missing),
        tracking_by_number=tracking,
    )


def _resolve(
    record: CallRecord, refs: _References, require_campaign: bool
) -> tuple[dict[str, Any], FieldErrors]:
    """Foreign keys for one record, or field errors naming what could not be found."""
    errors: FieldErrors = {}
    tracking = refs.tracking_by_number.get(record.tracking_number)
    resolved: dict[str, Any] = {"tracking_number": tracking}
    for kind, by_id, by_name in (
        ("campaign", refs.campaigns_by_id, refs.campaigns_by_name),
        ("publisher", refs.publishers_by_id, refs.publishers_by_name),
        ("buyer", refs.buyers_by_id, refs.buyers_by_name),
    ):
        object_id = getattr(record, f"{kind}_id")
        name = getattr(record, f"{kind}_name")
        if object_id:
            obj = by_id.get(object_id)
            if obj is None:
                errors[f"{kind}_id"] = [f"No {kind} with id {object_id}."]
        elif name:
            obj = by_name.get(name)
            if obj is None:
                errors[f"{kind}_name"] = [
                    f"Unknown {kind} '{name}'. Create it first, or pass create_missing=true."
                ]
        elif tracking is not None and kind != "buyer":
            obj = getattr(tracking, kind)
        else:
            obj = None
        resolved[kind] = obj
    if (
        require_campaign
        and resolved["campaign"] is None
        and "campaign_id" not in errors
        and ("campaign_name" not in errors)
    ):
        where = (
            f"tracking number {record.tracking_number} is not set up"
            if record.tracking_number
            else "no campaign_id, campaign_name or tracking_number was given"
        )
        errors["campaign"] = [f"The call's campaign is unknown: {where}."]
    return resolved, errors


# Columns written by an upsert, in the order of the rows built by `_write_calls`.
WRITE_FIELDS = ["organization", "external_id", *UPSERT_FIELDS, "created_at"]


def _write_calls(
    organization: Organization,
    rows: dict[str, tuple[int, CallRecord, dict[str, Any]]],
    source: str,
    deferred: DeferredDerivation | None = None,
) -> dict[str, tuple[bool, dt.datetime | None, Decimal, dt.datetime, str]]:
    """Upsert the rows, re-derive repeat flags and mark the rollup days they touch dirty.

    With `deferred` (a bulk writer), the repeat flags and the refresh are left to
    `deferred.finish`: the touched instants and callers are added to it. Returns the stored
    state of the calls that existed before.
    """
    existing = {
        ext_id: (converted, converted_at, revenue, started_at, caller)
        for ext_id, converted, converted_at, revenue, started_at, caller in (
            Call.objects.for_organization(organization)
            .filter(external_id__in=list(rows))
            .values_list(
                "external_id",
                "converted",
                "converted_at",
                "revenue",
                "started_at",
                "caller_number",
            )
        )
    }
    now = timezone.now()
    values: list[dict[str, Any]] = []
    # Rows in external id order: two batches with calls in common then lock those rows in the
    # same order, so one waits for the other instead of each holding what the other needs.
    for external_id, (_index, record, resolved) in sorted(rows.items()):
        converted, converted_at, revenue = record.converted, record.converted_at, record.revenue
        stored = existing.get(external_id)
        if stored is not None:
            if "converted" not in record.given_conversion_fields:
                converted, converted_at = stored[0], stored[1]
            if "revenue" not in record.given_conversion_fields:
                revenue = stored[2]
        values.append(
            {
                "organization": organization.pk,
                "external_id": external_id,
                "campaign": _pk(resolved["campaign"]),
                "publisher": _pk(resolved["publisher"]),
                "buyer": _pk(resolved["buyer"]),
                "tracking_number": _pk(resolved["tracking_number"]),
                "dialed_number": record.tracking_number,
                "caller_number": record.caller_number,
                "caller_region": record.caller_region,
                "started_at": record.started_at,
                "duration_seconds": record.duration_seconds,
                "status": record.status,
                "converted": converted,
                "converted_at": converted_at if converted else None,
                "revenue": revenue,
                "cost": record.cost,
                "source": source,
                "tags": record.tags,
                "is_repeat": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    upsert_calls(values)

    touched = [row["started_at"] for row in values] + [old[3] for old in existing.values()]
    callers = {row["caller_number"] for row in values} | {old[4] for old in existing.values()}
    if deferred is not None:
        deferred.add(touched, callers - {""})
        calls_changed.send(sender=Call, organization=organization, instants=touched, deferred=True)
        return existing
    touched += repeat_flags_rederive(
        organization.pk,
        callers=callers - {""},
        since=min(touched),
        until=max(touched),
    )
    calls_changed.send(sender=Call, organization=organization, instants=touched)
    return existing


# Up to this many distinct callers a deferred re-derivation looks at their calls only; beyond
# it, at every call in the span written (one set-based pass, as a full rebuild does).
DEFERRED_CALLERS_MAX = 5000


@dataclass
class DeferredDerivation:
    """What a bulk writer (a CSV import) leaves to the end: repeat flags and the KPI refresh.

    Deriving repeat flags and refreshing the rollups after every batch costs more with each
    batch (the days and callers it touches hold ever more calls), so a large import grew
    quadratic. Batches written with a DeferredDerivation only mark their days dirty;
    `finish` then re-derives the repeat flags of the span written once and asks for one
    refresh, which recomputes each dirty day once.
    """

    first: dt.datetime | None = None
    last: dt.datetime | None = None
    # None once there are more than DEFERRED_CALLERS_MAX: then the whole span is re-derived.
    callers: set[str] | None = field(default_factory=set)

    def add(self, instants: Sequence[dt.datetime], callers: set[str]) -> None:
        if not instants:
            return
        low, high = min(instants), max(instants)
        self.first = low if self.first is None else min(self.first, low)
        self.last = high if self.last is None else max(self.last, high)
        if self.callers is not None:
            self.callers |= callers
            if len(self.callers) > DEFERRED_CALLERS_MAX:
                self.callers = None

    def finish(self, organization: Organization) -> None:
        """Re-derive the repeat flags of what was written and ask for one KPI refresh."""
        if self.first is None or self.last is None:
            return  # nothing was written
        with transaction.atomic():
            if self.callers != set():
                changed = repeat_flags_rederive(
                    organization.pk, callers=self.callers, since=self.first, until=self.last
                )
                calls_changed.send(
                    sender=Call, organization=organization, instants=changed, deferred=True
                )
            calls_bulk_written.send(sender=Call, organization=organization)


def _pk(obj: Any) -> int | None:
    return obj.pk if obj is not None else None


def upsert_calls(values: list[dict[str, Any]]) -> None:
    if connection.vendor == "postgresql":
        upsert_calls_postgres(values)
    elif connection.vendor == "sqlite":
        upsert_calls_sqlite(values)
    else:
        upsert_calls_orm(values)


def upsert_calls_orm(values: list[dict[str, Any]]) -> None:
    """The portable upsert (SQLite, the embedded default): Django's bulk_create."""
    calls = [
        Call(**{Call._meta.get_field(name).attname: row[name] for name in WRITE_FIELDS})
        for row in values
    ]
    Call.objects.bulk_create(
        calls,
        update_conflicts=True,
        unique_fields=["organization", "external_id"],
        update_fields=UPSERT_FIELDS,
        batch_size=1000,
    )


def _sqlite_value_adapter(model_field: Any) -> Any:
    """How one column's values are bound on SQLite, as bulk_create would bind them."""
    if isinstance(model_field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        return lambda value: None if value is None else adapt(value)
    if isinstance(model_field, models.DecimalField | models.JSONField):
        return lambda value: model_field.get_db_prep_save(value, connection)
    return None  # ids, text, integers, booleans: bound as they are


def upsert_calls_sqlite(values: list[dict[str, Any]]) -> None:
    """The same upsert as `upsert_calls_orm` on SQLite (the embedded default), as one
    prepared INSERT ... ON CONFLICT run for every row (executemany).

    bulk_create builds the SQL of every value in Python, which was most of an import's time
    on SQLite; the statement here is built once and SQLite runs it per row in C.
    """
    fields = [Call._meta.get_field(name) for name in WRITE_FIELDS]
    adapters = [_sqlite_value_adapter(f) for f in fields]
    columns = ", ".join(f.column for f in fields)
    updates = ", ".join(
        f"{Call._meta.get_field(name).column} = excluded.{Call._meta.get_field(name).column}"
        for name in UPSERT_FIELDS
    )
    sql = (
        f"INSERT INTO {Call._meta.db_table} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT (organization_id, external_id) DO UPDATE SET {updates}"
    )
    rows = [
        [
            row[f.name] if adapt is None else adapt(row[f.name])
            for f, adapt in zip(fields, adapters, strict=True)
        ]
        for row in values
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def upsert_calls_postgres(values: list[dict[str, Any]]) -> None:
    """The same upsert as `upsert_calls_orm`, as one INSERT ... SELECT FROM unnest(arrays).

    One array parameter per column instead of one parameter per value: on PostgreSQL this is
    several times faster than bulk_create's statement building for a batch of 1,000 calls.
    """
    fields = [Call._meta.get_field(name) for name in WRITE_FIELDS]
    columns = [f.column for f in fields]
    arrays = []
    for f in fields:
        column_values = [row[f.name] for row in values]
        if f.name == "tags":
            column_values = [Jsonb(v) for v in column_values]
        arrays.append(column_values)
    casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    table = Call._meta.db_table
    updates = ", ".join(
        f"{Call._meta.get_field(name).column} = EXCLUDED.{Call._meta.get_field(name).column}"
        for name in UPSERT_FIELDS
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
        f"ON CONFLICT (organization_id, external_id) DO UPDATE SET {updates}"
    )
    connection.ensure_connection()
    # Django's cursors bind client-side (quoting every array element into the SQL text); a
    # plain psycopg cursor sends the arrays as binary parameters, which is what makes this fast.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, arrays, binary=True)


def call_records_upsert(
    *,
    organization: Organization,
    records: Sequence[CallRecord | None],
    source: str = CallSource.API,
    create_missing: bool = False,
    require_campaign: bool = True,
    atomic: bool = True,
    deferred: DeferredDerivation | None = None,
) -> IngestResult:
    """Write validated records, idempotently by (organization, external_id).

    `records[i] is None` marks an item that failed validation (it is skipped). With `atomic`,
    any reference error rejects the whole batch and nothing is written; without it the good
    records are written and the bad ones reported by index. A bulk writer passes the same
    `deferred` to every batch and calls its `finish` once at the end (see DeferredDerivation).
    """
    present = [(i, r) for i, r in enumerate(records) if r is not None]

    def upsert_once() -> IngestResult:
        result = IngestResult()
        refs = _load_references(organization, (r for _, r in present), create_missing)
        rows: dict[str, tuple[int, CallRecord, dict[str, Any]]] = {}
        for index, record in present:
            resolved, errors = _resolve(record, refs, require_campaign)
            if errors:
                result.errors[index] = errors
                continue
            # The same call twice in one batch: the later item wins, as a later post would.
            rows[record.external_id] = (index, record, resolved)
        if (atomic and result.errors) or not rows:
            # Nothing is written, not even the names create_missing made for this batch.
            transaction.set_rollback(True)
            return result
        existing = _write_calls(organization, rows, source, deferred)
        result.updated = len(existing)
        result.created = len(rows) - len(existing)
        result.written_indexes = sorted(index for index, _, _ in rows.values())
        return result

    # Concurrent batches of the same calls lock rows in one order (`_write_calls`); what still
    # deadlocks (repeat flags, rollup marks) or loses its connection is run again, which an
    # upsert by external id makes harmless.
    return atomic_retried(upsert_once, attempts=CALL_UPSERT_ATTEMPTS, what="call upsert")


def call_ingest_batch(
    *,
    organization: Organization,
    items: Sequence[object],
    create_missing: bool = False,
    source: str = CallSource.API,
) -> IngestResult:
    """Validate and write a batch atomically: one bad item and nothing is written."""
    records, errors = validate_call_items(items, organization.tzinfo, organization.country)
    if errors:
        # References are still checked, so one response lists every problem in the batch.
        reference_errors = _reference_errors_only(organization, records)
        for index, item_errors in reference_errors.items():
            errors.setdefault(index, {}).update(item_errors)
        return IngestResult(errors=dict(sorted(errors.items())))
    return call_records_upsert(
        organization=organization,
        records=records,
        source=source,
        create_missing=create_missing,
        atomic=True,
    )


def _reference_errors_only(
    organization: Organization, records: Sequence[CallRecord | None]
) -> dict[int, FieldErrors]:
    refs = _load_references(organization, (r for r in records if r), create_missing=False)
    errors: dict[int, FieldErrors] = {}
    for index, record in enumerate(records):
        if record is None:
            continue
        _, item_errors = _resolve(record, refs, require_campaign=True)
        if item_errors:
            errors[index] = item_errors
    return errors


@dataclass
class ConversionUpdate:
    converted: bool = True
    revenue: Decimal | None = None
    converted_at: dt.datetime | None = None


def call_conversion_record(
    *, organization: Organization, external_id: str, update: ConversionUpdate
) -> Call | None:
    """Record (or undo) the conversion of a call that arrived earlier. None: no such call."""
    with transaction.atomic():
        call = (
            Call.objects.for_organization(organization)
            .select_for_update()
            .filter(external_id=external_id)
            .first()
        )
        if call is None:
            return None
        call.converted = update.converted
        if update.converted:
            call.converted_at = update.converted_at or call.converted_at or timezone.now()
        else:
            call.converted_at = None
        if update.revenue is not None:
            call.revenue = update.revenue
        call.save(update_fields=["converted", "converted_at", "revenue", "updated_at"])
        calls_changed.send(sender=Call, organization=organization, instants=[call.started_at])
    return call
