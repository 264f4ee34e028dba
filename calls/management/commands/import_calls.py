"""`manage.py import_calls FILE --org SLUG --format F [--create-missing] [options]`.

Runs the CSV import pipeline of the API synchronously: the file is stored as a CallImport of
the organization, then imported by `call_import_run`, so the result is the same import
report the API shows (and can be read there afterwards). The options are the API's form
fields: --campaign, --source-timezone, and for Asterisk --columns and --internal-context.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from calls.import_errors_csv import import_errors_csv_text
from calls.importers import PRESETS, ImportOptionsError
from calls.models import ImportStatus
from calls.services import call_import_create, call_import_options, call_import_run
from ppc_dashboard.tenancy.management.commands._org import organization_by_slug


class Command(BaseCommand):
    help = (
        "Import a CSV export of calls (Ringba, Retreaver, Invoca, CallRail, Twilio, Asterisk...)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file to import")
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument(
            "--format", required=True, choices=sorted(PRESETS), help="Which platform's export"
        )
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create campaigns, publishers and buyers named in the file but unknown",
        )
        parser.add_argument(
            "--campaign", default="", help="Put every call in this campaign (by name)"
        )
        parser.add_argument(
            "--source-timezone",
            default="",
            help="Zone of the file's times without an offset, when not the organization's "
            "(e.g. UTC for a PBX clock)",
        )
        parser.add_argument(
            "--columns",
            default="",
            help="asterisk: the Master.csv column order, comma-separated CDR names "
            "(as in cdr_custom.conf)",
        )
        parser.add_argument(
            "--internal-context",
            action="append",
            default=[],
            help="asterisk: a dcontext of internal calls (extension to extension, outbound), "
            "which are skipped; repeat or comma-separate for several",
        )
        parser.add_argument(
            "--show-errors",
            type=int,
            default=20,
            help="How many row errors to print (default 20)",
        )
        parser.add_argument(
            "--errors-csv",
            type=Path,
            default=None,
            help="Write every row error to this CSV file (row, column, message)",
        )

    def handle(self, *args, file: Path, org: str, create_missing: bool, **options):
        organization = organization_by_slug(org)
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            import_options = call_import_options(
                organization=organization,
                import_format=options["format"],
                create_missing=create_missing,
                campaign=options["campaign"],
                source_timezone=options["source_timezone"],
                columns=options["columns"],
                internal_context=options["internal_context"],
            )
        except ImportOptionsError as exc:
            raise CommandError(
                "; ".join(
                    f"--{name.replace('_', '-')}: {message}" for name, message in exc.errors.items()
                )
            ) from exc
        with file.open("rb") as handle:
            call_import = call_import_create(
                organization=organization,
                upload=File(handle, name=file.name),
                import_format=options["format"],
                create_missing=create_missing,
                options=import_options,
            )
        call_import = call_import_run(call_import_id=call_import.pk)

        self.stdout.write(
            f"Import {call_import.pk} of {file.name} ({call_import.format}) for '{org}': "
            f"{call_import.status}."
        )
        if call_import.file_shape_label:
            self.stdout.write(f"Read as {call_import.file_shape_label}.")
        self.stdout.write(
            f"Rows read: {call_import.rows_total or 0}; rows imported: "
            f"{call_import.rows_imported}, as {call_import.calls_written} distinct calls "
            f"({call_import.rows_duplicate} duplicate rows of a call earlier in the file); "
            f"rows failed: {call_import.rows_failed}; rows skipped (not calls to import): "
            f"{call_import.rows_skipped}."
        )
        shown = call_import.errors[: max(options["show_errors"], 0)]
        for error in shown:
            self.stdout.write(f"  row {error['row']}, column {error['column']}: {error['error']}")
        if options["errors_csv"] is not None:
            options["errors_csv"].write_text(import_errors_csv_text(call_import), encoding="utf-8")
            self.stdout.write(
                f"All {len(call_import.errors)} row errors written to {options['errors_csv']}."
            )
        elif len(call_import.errors) > len(shown):
            self.stdout.write(
                f"  ... and {len(call_import.errors) - len(shown)} more. All of them: rerun "
                f"with --errors-csv FILE, or download GET /api/v1/imports/{call_import.pk}/"
                f"errors.csv (or from the import's page, /settings/imports/{call_import.pk}/)."
            )
        if call_import.errors_dropped:
            self.stdout.write(
                f"  {call_import.errors_dropped} more errors were counted but not kept (an "
                f"import keeps its first {call_import.ERROR_KEEP_LIMIT})."
            )
        if call_import.status == ImportStatus.FAILED:
            raise CommandError(call_import.detail or "The import failed.")
