"""Writes for calls beyond single ingest: CSV imports, Twilio callbacks, corrections."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from ppc_dashboard.celery import task_enqueue
from ppc_dashboard.tenancy.models import Organization
from routing.models import RoutingPlan

from .csv_reading import CsvFileError, CsvShape, csv_file_shape, csv_rows
from .importers import (
    PRESETS,
    ImportOptions,
    ImportOptionsError,
    Preset,
    RowError,
    Skip,
    preset_for,
)
from .ingest import (
    CallRecord,
    DeferredDerivation,
    FieldErrors,
    call_records_upsert,
    validate_call_item,
)
from .models import Call, CallImport, CallSource, Campaign, ImportStatus, TwilioCallback
from .repeat_calls import repeat_flags_rederive
from .signals import calls_changed, campaign_qualifying_changed
from .twilio_merge import (
    TwilioCallbackFact,
    TwilioParameterError,
    twilio_call_merge,
    twilio_call_routing_plan,
    twilio_callback_fact,
    twilio_callback_facts_distinct,
)

logger = logging.getLogger(__name__)

IMPORT_CHUNK_ROWS = 1000
# The import task's name: services enqueue it by name (calls.tasks imports this module).
CALL_IMPORT_TASK = "calls.tasks.call_import_task"
CALL_IMPORTS_SWEEP_TASK = "calls.tasks.call_imports_sweep_task"
CAMPAIGN_NAME_MAX_LENGTH = Campaign._meta.get_field("name").max_length


def call_import_options(
    *,
    organization: Organization,
    import_format: str,
    create_missing: bool = False,
    campaign: str = "",
    source_timezone: str = "",
    columns: str | Sequence[str] = "",
    internal_context: str | Sequence[str] = "",
) -> ImportOptions:
    """An import's options as the user gave them (CLI flags, API form fields), checked.

    Lists may come as comma-separated text. Raises ImportOptionsError naming each option that
    does not fit: unknown to the format, an unknown time zone, an unknown campaign (unless
    create_missing will create it).
    """
    options = ImportOptions(
        campaign=campaign.strip(),
        source_timezone=source_timezone.strip(),
        columns=_option_names(columns),
        internal_context=_option_names(internal_context),
    )
    errors = PRESETS[import_format].options_errors(options)
    if len(options.campaign) > CAMPAIGN_NAME_MAX_LENGTH:
        errors["campaign"] = f"At most {CAMPAIGN_NAME_MAX_LENGTH} characters."
    elif (
        options.campaign
        and not create_missing
        and not Campaign.objects.for_organization(organization)
        .filter(name=options.campaign)
        .exists()
    ):
        errors["campaign"] = (
            f"No campaign named '{options.campaign}'. Create it first, or pass create_missing."
        )
    if errors:
        raise ImportOptionsError(errors)
    return options


def _option_names(value: str | Sequence[str]) -> tuple[str, ...]:
    parts = [value] if isinstance(value, str) else value
    return tuple(name.strip() for part in parts for name in part.split(",") if name.strip())


def call_import_create(
    *,
    organization: Organization,
    upload: File,
    import_format: str,
    create_missing: bool = False,
    options: ImportOptions | None = None,
    created_by=None,
) -> CallImport:
    """Store an uploaded file as a pending import of the organization (nothing imported yet)."""
    name = Path(upload.name or "upload.csv").name
    call_import = CallImport(
        organization=organization,
        format=import_format,
        original_name=name[:255],
        create_missing=create_missing,
        options=(options or ImportOptions()).as_json(),
        created_by=created_by,
    )
    call_import.file.save(name, upload, save=False)
    call_import.save()
    return call_import


def call_import_start(
    *,
    organization: Organization,
    upload: UploadedFile,
    import_format: str,
    create_missing: bool = False,
    options: ImportOptions | None = None,
    created_by=None,
) -> CallImport:
    """Store the upload and import it: inline when small, else as a Celery task."""
    call_import = call_import_create(
        organization=organization,
        upload=upload,
        import_format=import_format,
        create_missing=create_missing,
        options=options,
        created_by=created_by,
    )
    if upload.size is not None and upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        call_import_run(call_import_id=call_import.pk)
    else:
        transaction.on_commit(lambda: task_enqueue(CALL_IMPORT_TASK, call_import.pk))
    return call_import


def _count_rows(binary: IO[bytes], shape: CsvShape, preset: Preset) -> int:
    count = sum(1 for _ in csv_rows(binary, shape))
    return max(count - (1 if preset.header else 0), 0)


def _numbered_rows(
    reader: Iterator[list[str]], preset: Preset
) -> tuple[Iterator[tuple[int, dict[str, str]]], list[str]]:
    """Rows as dicts with spreadsheet row numbers (the header is row 1), and the header."""
    if preset.header:
        header = [name.strip() for name in next(reader, [])]
        first = 2
    else:
        header = list(preset.positional_columns)
        first = 1

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for offset, values in enumerate(reader):
            if not any(v.strip() for v in values):
                continue
            yield first + offset, dict(zip(header, values, strict=False))

    return rows(), header


@dataclass
class _ImportTally:
    """What an import has done so far, beyond the counters saved on the CallImport."""

    errors: list[RowError] = field(default_factory=list)
    errors_dropped: int = 0
    failed_rows: set[int] = field(default_factory=set)
    # hash() of the external ids written: 64 bits for each distinct call instead of its id,
    # so a million-row file costs tens of MB, not hundreds.
    written_ids: set[int] = field(default_factory=set)
    duplicates: int = 0
    # A resumed run's failed rows whose errors were not in the checkpoint's report.
    failed_rows_unlisted: int = 0
    # How many errors the last checkpoint stored (it stores up to ERROR_REPORT_LIMIT).
    errors_checkpointed: int = 0

    @property
    def rows_failed(self) -> int:
        return len(self.failed_rows) + self.failed_rows_unlisted

    def add_errors(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.failed_rows.add(error.row)
            if len(self.errors) < CallImport.ERROR_KEEP_LIMIT:
                self.errors.append(error)
            else:
                self.errors_dropped += 1

    def add_written(self, external_id: str) -> None:
        key = hash(external_id)
        if key in self.written_ids:
            self.duplicates += 1
        else:
            self.written_ids.add(key)


def call_import_run(*, call_import_id: int) -> CallImport:
    """Import a stored CSV. Good rows are written, bad rows reported by row and column.

    The file's encoding and delimiter are detected (calls.csv_reading) and reported.
    Idempotent by external id: running the same file again rewrites the same calls.
    Progress (rows_done of rows_total) is saved after each chunk of rows; the repeat flags
    and the KPI refresh follow once, when the rows are in.
    """
    call_import = CallImport.objects.select_related("organization").get(pk=call_import_id)
    options = ImportOptions.from_json(call_import.options)
    preset = preset_for(call_import.format, options)
    organization = call_import.organization
    # The file's naive times are in its source's zone: the tenant's unless the user said.
    file_tz = options.source_tzinfo or organization.tzinfo
    call_import.status = ImportStatus.RUNNING
    call_import.rows_total = None
    call_import.detail = ""
    tally = _import_resume_point(call_import)
    call_import.save()

    # Repeat flags and the KPI refresh once at the end, not per chunk: linear time.
    deferred = DeferredDerivation()
    try:
        with call_import.file.open("rb") as binary:
            shape = csv_file_shape(binary)
            call_import.encoding, call_import.delimiter = shape.encoding, shape.delimiter
            call_import.rows_total = _count_rows(binary, shape, preset)
            call_import.save()
            rows, header = _numbered_rows(csv_rows(binary, shape), preset)
            missing = preset.missing_columns(header)
            if preset.header and missing:
                call_import.status = ImportStatus.FAILED
                call_import.detail = (
                    f"The file is not a {preset.name} export: missing column(s) "
                    f"{', '.join(missing)}. It was read as {shape}; its first row has "
                    f"{len(header)} column(s): {', '.join(header[:12])}"
                    f"{', ...' if len(header) > 12 else ''}."
                )
                tally.add_errors(RowError(1, column, "missing column") for column in missing)
                raise _ImportRefused
            items = preset.items(rows)
            if call_import.rows_checkpoint:
                items = _import_replay(call_import, preset, items, tally, deferred, file_tz)
            chunk: list[tuple[int, CallRecord]] = []
            for number, item in items:
                call_import.rows_done += 1
                if isinstance(item, RowError):
                    tally.add_errors([item])
                    continue
                if isinstance(item, Skip):
                    call_import.rows_skipped += 1
                    continue
                item = preset.with_options(item)
                record, field_errors = validate_call_item(item, file_tz, organization.country)
                if field_errors:
                    tally.add_errors(_row_errors(number, preset, field_errors))
                    continue
                chunk.append((number, record))  # type: ignore[arg-type]
                if len(chunk) >= IMPORT_CHUNK_ROWS:
                    _import_chunk(call_import, preset, chunk, tally, deferred)
                    chunk = []
            _import_chunk(call_import, preset, chunk, tally, deferred)
    except _ImportRefused:
        pass  # the status and the reason are set
    except CsvFileError as exc:
        call_import.status = ImportStatus.FAILED
        call_import.detail = str(exc)
    except Exception as exc:  # a broken file must still end the import with a reason
        logger.exception("import %s failed", call_import.pk)
        call_import.status = ImportStatus.FAILED
        call_import.detail = f"The import stopped: {exc}"
    else:
        call_import.status = ImportStatus.DONE
    # The chunks written so far count, whatever error stopped the import. Not in a `finally`:
    # a run stopped from outside (a worker's shutdown, a BaseException) keeps its checkpoint
    # and stays unfinished for the next run or the sweeper to resume.
    deferred.finish(organization)
    _import_finish(call_import, tally)
    return call_import


class _ImportRefused(Exception):
    """The file cannot be imported as a whole (its reason is on the CallImport)."""


def _import_finish(call_import: CallImport, tally: _ImportTally) -> None:
    call_import.rows_failed = tally.rows_failed
    call_import.calls_written = len(tally.written_ids)
    call_import.rows_duplicate = tally.duplicates
    if call_import.status == ImportStatus.DONE:
        call_import.rows_done = max(call_import.rows_done, call_import.rows_total or 0)
    call_import.errors = [e.as_dict() for e in tally.errors]
    call_import.errors_dropped = tally.errors_dropped
    call_import.finished_at = timezone.now()
    call_import.rows_checkpoint = 0  # finished: a deliberate re-run reads the whole file again
    call_import.save()


# Advisory lock namespace (PostgreSQL) of one import's run; kpis.rollups has 7301-2, Twilio 7303.
CALL_IMPORT_LOCK = 7304
FINISHED_IMPORT_STATUSES = (ImportStatus.DONE, ImportStatus.FAILED)


def call_import_run_claimed(*, call_import_id: int) -> CallImport | None:
    """Run an unfinished import unless another worker runs it now; what the task calls.

    The same import may be handed to a worker twice: Redis redelivers a killed worker's task,
    and the sweeper enqueues a silent import again. The run holds a session lock on
    PostgreSQL, which the server drops with the connection of a worker that died, so only a
    live run keeps it. None when the import was finished or taken.
    """
    with _import_run_lock(call_import_id) as claimed:
        if not claimed:
            logger.info("import %s is being run by another worker", call_import_id)
            return None
        status = CallImport.objects.values_list("status", flat=True).get(pk=call_import_id)
        if status in FINISHED_IMPORT_STATUSES:
            return None
        return call_import_run(call_import_id=call_import_id)


@contextlib.contextmanager
def _import_run_lock(call_import_id: int) -> Iterator[bool]:
    if connection.vendor != "postgresql":
        yield True  # SQLite: one process runs everything
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CALL_IMPORT_LOCK, call_import_id])
        claimed = cursor.fetchone()[0]
    try:
        yield claimed
    finally:
        if claimed:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [CALL_IMPORT_LOCK, call_import_id]
                    )
            except DatabaseError:  # the connection is gone, and the lock with it
                logger.warning("import %s: its lock went with its connection", call_import_id)


def _import_run_alive(call_import_id: int) -> bool:
    """Whether a live run holds the import (PostgreSQL: the run's session lock is taken)."""
    with _import_run_lock(call_import_id) as claimed:
        return not claimed


def call_imports_sweep(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Restart, or give up on, every unfinished import whose heartbeat stopped; beat runs it.

    An import is silent when it is running with no heartbeat for IMPORT_STALE_SECONDS, or
    pending that long (its task was never enqueued, or lost), and no live run holds it (a slow
    chunk is not a dead worker). It is enqueued again (it resumes at its checkpoint) up to
    IMPORT_MAX_RESTARTS times, then marked failed with a message that says how far it got.
    Returns (restarted, failed).
    """
    now = now or timezone.now()
    silent_since = now - dt.timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    silent = CallImport.objects.filter(
        Q(status=ImportStatus.RUNNING, heartbeat_at__lt=silent_since)
        | Q(status=ImportStatus.RUNNING, heartbeat_at__isnull=True, created_at__lt=silent_since)
        | Q(status=ImportStatus.PENDING, created_at__lt=silent_since)
        & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=silent_since))
    )
    restarted = failed = 0
    for call_import_id in silent.values_list("pk", flat=True):
        with transaction.atomic():
            call_import = (
                silent.select_for_update(skip_locked=True).filter(pk=call_import_id).first()
            )
            if call_import is None:
                continue  # finished, or another sweeper has it
            if _import_run_alive(call_import.pk):
                continue  # slow, not dead: its run still holds the import
            if call_import.restarts >= settings.IMPORT_MAX_RESTARTS:
                _import_give_up(call_import, now)
                failed += 1
                continue
            call_import.restarts += 1
            # The restart's clock: swept again only if this run is silent as long.
            call_import.heartbeat_at = now
            call_import.save(update_fields=["restarts", "heartbeat_at"])
            logger.warning(
                "import %s was silent for %s s: enqueued again (restart %s of %s)",
                call_import.pk,
                settings.IMPORT_STALE_SECONDS,
                call_import.restarts,
                settings.IMPORT_MAX_RESTARTS,
            )
            transaction.on_commit(functools.partial(task_enqueue, CALL_IMPORT_TASK, call_import.pk))
            restarted += 1
    return restarted, failed


def _import_give_up(call_import: CallImport, now: dt.datetime) -> None:
    call_import.status = ImportStatus.FAILED
    call_import.finished_at = now
    call_import.detail = (
        f"The import stopped making progress and was restarted {call_import.restarts} times "
        f"without finishing (no heartbeat for {settings.IMPORT_STALE_SECONDS} s: its worker "
        f"died or was killed), so it was given up after {call_import.rows_done:,} of "
        f"{call_import.rows_total or 0:,} rows, with {call_import.rows_imported:,} calls "
        "imported. Upload the file again to import the rest: calls already imported are "
        "updated, never counted twice."
    )
    call_import.save(update_fields=["status", "finished_at", "detail"])
    logger.error("import %s given up after %s restarts", call_import.pk, call_import.restarts)


def _row_errors(number: int, preset: Preset, field_errors: dict[str, list[str]]) -> list[RowError]:
    return [
        RowError(number, preset.column_for(name), message)
        for name, messages in field_errors.items()
        for message in messages
    ]


def _import_chunk(
    call_import: CallImport,
    preset: Preset,
    chunk: list[tuple[int, CallRecord]],
    tally: _ImportTally,
    deferred: DeferredDerivation,
) -> None:
    if chunk:
        result = call_records_upsert(
            organization=call_import.organization,
            records=[record for _, record in chunk],
            source=preset.source,
            create_missing=call_import.create_missing,
            atomic=False,
            deferred=deferred,
        )
        for index, field_errors in result.errors.items():
            tally.add_errors(_row_errors(chunk[index][0], preset, field_errors))
        for index, (_, record) in enumerate(chunk):
            if index not in result.errors:
                tally.add_written(record.external_id)
        call_import.rows_imported += len(chunk) - len(result.errors)
    _import_checkpoint_save(call_import, tally)


def _import_resume_point(call_import: CallImport) -> _ImportTally:
    """Where a run starts: after the stored checkpoint of a run that stopped, else at row 1.

    Sets the counters and the heartbeat; returns the tally so far. A resumed run keeps the
    checkpoint's counters and the errors it listed (up to ERROR_REPORT_LIMIT; the others are
    counted as dropped), and `_import_replay` reads the rows before the checkpoint again
    without writing them, for the distinct calls and the repeat flags of what was written.
    """
    call_import.heartbeat_at = timezone.now()
    tally = _ImportTally()
    if call_import.rows_checkpoint:
        logger.info("import %s resumes after row %s", call_import.pk, call_import.rows_checkpoint)
        call_import.rows_done = call_import.rows_checkpoint
        tally.errors = [RowError(e["row"], e["column"], e["error"]) for e in call_import.errors]
        tally.errors_checkpointed = len(tally.errors)
        tally.errors_dropped = call_import.errors_dropped
        tally.failed_rows = {e.row for e in tally.errors}
        tally.failed_rows_unlisted = max(call_import.rows_failed - len(tally.failed_rows), 0)
        return tally
    call_import.rows_done = call_import.rows_imported = call_import.rows_failed = 0
    call_import.rows_skipped = call_import.calls_written = call_import.rows_duplicate = 0
    call_import.errors = []
    call_import.errors_dropped = 0
    return tally


def _import_replay(
    call_import: CallImport,
    preset: Preset,
    items: Iterator[tuple[int, CallRecord | RowError | Skip]],
    tally: _ImportTally,
    deferred: DeferredDerivation,
    file_tz: dt.tzinfo,
) -> Iterator[tuple[int, CallRecord | RowError | Skip]]:
    """Read a resumed import's rows up to its checkpoint again, writing nothing; the rest.

    Their calls were written by the run that stopped: they count as written (or duplicates),
    and their instants and callers join the deferred repeat flags, which died with that run.
    Rows counted as skipped or failed before are left as counted.
    """
    organization = call_import.organization
    for number, item in itertools.islice(items, call_import.rows_checkpoint):
        if isinstance(item, RowError | Skip) or number in tally.failed_rows:
            continue
        record, field_errors = validate_call_item(
            preset.with_options(item), file_tz, organization.country
        )
        if field_errors or record is None:
            continue
        tally.add_written(record.external_id)
        deferred.add([record.started_at], {record.caller_number} - {""})
    return items


def _import_checkpoint_save(call_import: CallImport, tally: _ImportTally) -> None:
    """Progress after a chunk: every row up to `rows_done` is written or reported, so a run
    that stops after this resumes here; the heartbeat says this run is alive.

    The errors go with it only while the stored list is short of ERROR_REPORT_LIMIT, so a
    file full of bad rows does not rewrite a growing list after every chunk.
    """
    call_import.rows_checkpoint = call_import.rows_done
    call_import.heartbeat_at = timezone.now()
    progress = {
        "rows_done": call_import.rows_done,
        "rows_imported": call_import.rows_imported,
        "rows_skipped": call_import.rows_skipped,
        "rows_failed": tally.rows_failed,
        "rows_checkpoint": call_import.rows_checkpoint,
        "heartbeat_at": call_import.heartbeat_at,
    }
    listed = min(len(tally.errors), CallImport.ERROR_REPORT_LIMIT)
    if listed > tally.errors_checkpointed:
        progress["errors"] = [e.as_dict() for e in tally.errors[:listed]]
        tally.errors_checkpointed = listed
    # What a resumed run cannot list again: every error beyond the stored ones.
    progress["errors_dropped"] = len(tally.errors) + tally.errors_dropped - listed
    CallImport.objects.filter(pk=call_import.pk).update(**progress)


def calls_delete(*, organization: Organization, external_ids: list[str]) -> int:
    """Delete calls (a data correction); their days' rollups and repeat flags follow."""
    with transaction.atomic():
        doomed = Call.objects.for_organization(organization).filter(external_id__in=external_ids)
        gone = list(doomed.values_list("started_at", "caller_number"))
        if not gone:
            return 0
        doomed.delete()
        touched = [started_at for started_at, _ in gone]
        touched += repeat_flags_rederive(
            organization.pk,
            callers={caller for _, caller in gone} - {""},
            since=min(touched),
            until=max(touched),
        )
        calls_changed.send(sender=Call, organization=organization, instants=touched)
    return len(gone)


def campaign_save(campaign: Campaign) -> Campaign:
    """Create or update a campaign (API, setup screen, thresholds page alike); when an update
    changes the qualifying seconds or the duplicate window, history follows."""
    with transaction.atomic():
        before = None
        if campaign.pk is not None:
            before = (
                Campaign.objects.filter(pk=campaign.pk)
                .values_list("qualifying_seconds", "duplicate_window_days")
                .first()
            )
        campaign.save()
        if before is None:
            return campaign
        qualifying_changed = campaign.qualifying_seconds != before[0]
        duplicate_window_changed = campaign.duplicate_window_days != before[1]
        if qualifying_changed or duplicate_window_changed:
            campaign_settings_changed(
                campaign,
                qualifying_changed=qualifying_changed,
                duplicate_window_changed=duplicate_window_changed,
            )
    return campaign


def campaign_settings_changed(
    campaign, *, qualifying_changed: bool, duplicate_window_changed: bool
) -> None:
    """History follows a campaign's new thresholds (KPIS.md: changing them re-computes history)."""
    if duplicate_window_changed:
        changed = repeat_flags_rederive(campaign.organization_id)
        calls_changed.send(sender=Call, organization=campaign.organization, instants=changed)
    if qualifying_changed:
        campaign_qualifying_changed.send(sender=Campaign, campaign=campaign)


# Advisory lock namespace (PostgreSQL) of one Twilio call's callbacks; kpis.rollups has 7301-2.
TWILIO_CALL_LOCK = 7303


def twilio_callback_record(
    *, organization: Organization, params: Mapping[str, str], received_at: dt.datetime
) -> FieldErrors:
    """Keep one Twilio callback as a fact of its call and rewrite the call from all its facts.

    The call written through `call_records_upsert` is `twilio_call_merge` of every fact known
    about its CallSid, so the order callbacks arrive in and their replays do not matter. The
    callbacks of one call take turns (a lock per CallSid, taken before the facts are read):
    two arriving at once both count. Returns the errors of a callback that cannot be recorded
    (then nothing is written); empty when it was recorded, or is not about an inbound call.
    """
    try:
        fact = twilio_callback_fact(params, received_at)
    except TwilioParameterError as exc:
        return {exc.parameter: [str(exc)]}
    if fact is None:
        return {}
    with transaction.atomic():
        _lock_twilio_call(organization.pk, fact.call_sid)
        stored = _twilio_callback_facts_stored(organization, fact.call_sid)
        if not stored and _twilio_call_facts_pruned(organization, fact.call_sid):
            # A replay (its signature never expires) of a call whose facts are gone: merged
            # alone it would rewrite the call from one callback of several.
            logger.info("Twilio callback for %s: an old call's, changed nothing", fact.call_sid)
            return {}
        facts = twilio_callback_facts_distinct([*stored, fact])
        _twilio_callback_fact_store(organization, next(f for f in facts if f.key == fact.key))
        item = twilio_call_merge(facts)
        if item is None:
            return {}  # ringing, in progress...: kept, but the call is not over
        record, errors = validate_call_item(item, organization.tzinfo, organization.country)
        if not errors:
            result = call_records_upsert(
                organization=organization,
                records=[record],
                source=CallSource.TWILIO_WEBHOOK,
                require_campaign=False,  # a call to an unknown number is still a call
            )
            errors = result.errors.get(0, {})
        if not errors:
            _twilio_call_routing_plan_set(organization, fact.call_sid, facts)
        if errors:
            transaction.set_rollback(True)
        return errors


def _twilio_call_routing_plan_set(
    organization: Organization, call_sid: str, facts: list[TwilioCallbackFact]
) -> None:
    """The plan version that live routing used, kept on the call (not a call item field: an
    import of the same call must not clear it)."""
    plan_id = twilio_call_routing_plan(facts)
    if plan_id is None:
        return
    plan = RoutingPlan.objects.for_organization(organization).filter(pk=plan_id)
    Call.objects.for_organization(organization).filter(external_id=call_sid).update(
        routing_plan_id=Subquery(plan.values("pk")[:1])
    )


def _lock_twilio_call(organization_id: int, call_sid: str) -> None:
    """Serialize the callbacks of one call (PostgreSQL; SQLite serializes every writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                [TWILIO_CALL_LOCK, f"{organization_id}:{call_sid}"],
            )


def _twilio_callback_facts_stored(
    organization: Organization, call_sid: str
) -> list[TwilioCallbackFact]:
    rows = TwilioCallback.objects.for_organization(organization).filter(call_sid=call_sid)
    facts = [twilio_callback_fact(row.params, row.received_at) for row in rows]
    return [fact for fact in facts if fact is not None]


def _twilio_facts_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.TWILIO_CALLBACK_DAYS)


def _twilio_call_facts_pruned(organization: Organization, call_sid: str) -> bool:
    """Whether the call is known and older than its facts are kept (`twilio_callbacks_prune`)."""
    calls = Call.objects.for_organization(organization)
    return calls.filter(external_id=call_sid, started_at__lt=_twilio_facts_cutoff()).exists()


TWILIO_PRUNE_BATCH = 5000


def twilio_callbacks_prune() -> int:
    """Delete the facts of the calls whose last callback came more than TWILIO_CALLBACK_DAYS
    ago; returns how many calls' facts went (at most TWILIO_PRUNE_BATCH a run: beat runs it
    hourly, so a backlog goes in steps).

    The facts make callbacks in any order, and their replays, rewrite a call to the same
    record. Twilio stops calling back within hours of a call's end; kept after that, they
    would grow with every call (several rows of parameters each). A callback that arrives for
    such a call later (a replay) changes nothing (`twilio_callback_record`).
    """
    cutoff = _twilio_facts_cutoff()
    recent = TwilioCallback.objects.filter(
        organization_id=OuterRef("organization_id"),
        call_sid=OuterRef("call_sid"),
        received_at__gte=cutoff,
    )
    calls = list(
        TwilioCallback.objects.filter(received_at__lt=cutoff)
        .filter(~Exists(recent))
        .values_list("organization_id", "call_sid")
        .distinct()
        .order_by()[:TWILIO_PRUNE_BATCH]
    )
    by_organization: dict[int, list[str]] = {}
    for organization_id, call_sid in calls:
        by_organization.setdefault(organization_id, []).append(call_sid)
    for organization_id, call_sids in by_organization.items():
        TwilioCallback.objects.for_organization(organization_id).filter(
            call_sid__in=call_sids, received_at__lt=cutoff
        ).delete()
    return len(calls)


def _twilio_callback_fact_store(organization: Organization, fact: TwilioCallbackFact) -> None:
    TwilioCallback.objects.update_or_create(
        organization=organization,
        call_sid=fact.call_sid,
        key=fact.key,
        defaults={"params": dict(fact.params), "received_at": fact.received_at},
    )
