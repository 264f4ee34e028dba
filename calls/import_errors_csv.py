"""An import's row errors as a CSV download (row number, column, message), for the API and
the import's page alike."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from ppc_dashboard.csv_cells import csv_text

from .models import CallImport

IMPORT_ERRORS_CSV_HEADER = ("row", "column", "message")


def import_errors_csv_text(call_import: CallImport) -> str:
    """Every kept row error of the import, in file order; cells are formula-safe (a message
    quotes the file's own cells, which may start with '=')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(IMPORT_ERRORS_CSV_HEADER)
    for error in call_import.errors:
        writer.writerow([error["row"], csv_text(error["column"]), csv_text(error["error"])])
    return buffer.getvalue()


def import_errors_csv_response(call_import: CallImport) -> HttpResponse:
    response = HttpResponse(
        import_errors_csv_text(call_import), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"import-{call_import.pk}-errors.csv"
    )
    # Errors beyond CallImport.ERROR_KEEP_LIMIT are counted, not kept: the download says so.
    response["X-Errors-Dropped"] = str(call_import.errors_dropped)
    return response
