"""Files as people save them (issue 10): encodings and delimiters detected and reported,
rows and calls counted apart, every row error kept and downloadable, overflowing numbers
are row errors."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

import calls.services
from calls.models import Call, CallImport
from calls.services import call_import_create, call_import_run
from tests.factories import CampaignFactory

URL = "/api/v1/imports/"
SAMPLES = Path(__file__).parent / "samples"
NATIVE_HEADER = ["external_id", "started_at", "status", "duration_seconds", "publisher_name"]
NATIVE_ROWS = [
    ["n-1", "2026-11-02T10:00:00-05:00", "answered", "125", "Café Lumière"],
    ["n-2", "2026-11-02T10:05:00-05:00", "missed", "0", "Zoë Média"],
    ["n-3", "2026-11-02T10:10:00-05:00", "answered", "95", "Ångström; Søn"],
]


def csv_bytes(rows, *, delimiter=",", encoding="utf-8", bom=b"") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return bom + text.getvalue().encode(encoding)


def run_import(org, content: bytes, import_format="native", **kwargs) -> CallImport:
    call_import = call_import_create(
        organization=org,
        upload=ContentFile(content, name="calls.csv"),
        import_format=import_format,
        create_missing=True,
        **kwargs,
    )
    return call_import_run(call_import_id=call_import.pk)


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, name="Auto")


def native(rows=NATIVE_ROWS, header=NATIVE_HEADER):
    return [[*header, "campaign_name"], *[[*row, "Auto"] for row in rows]]


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom", "read_as"),
    [
        (",", "cp1252", b"", "Windows-1252, comma-separated"),
        (";", "utf-8", codecs.BOM_UTF8, "UTF-8 with BOM, semicolon-separated"),
        ("\t", "utf-16", b"", "UTF-16, tab-separated"),
        ("|", "utf-8", b"", "UTF-8, pipe-separated"),
    ],
)
def test_files_as_people_save_them_import_intact_and_say_how_they_were_read(
    org, campaign, delimiter, encoding, bom, read_as
):
    content = csv_bytes(native(), delimiter=delimiter, encoding=encoding, bom=bom)

    call_import = run_import(org, content)

    assert call_import.status == "done", call_import.detail
    assert call_import.file_shape_label == read_as
    assert (call_import.rows_imported, call_import.rows_failed) == (3, 0)
    publishers = set(Call.objects.for_organization(org).values_list("publisher__name", flat=True))
    assert publishers == {"Café Lumière", "Zoë Média", "Ångström; Søn"}


def test_api_report_says_what_it_detected(api_client, org, campaign):
    content = csv_bytes(native(), delimiter=";", encoding="utf-16")
    upload = SimpleUploadedFile("calls.csv", content, content_type="text/csv")
    data = {"file": upload, "format": "native", "create_missing": "true"}

    body = api_client.post(URL, data, format="multipart").json()

    assert body["status"] == "done", body
    assert (body["encoding"], body["delimiter"]) == ("utf-16", ";")
    assert body["read_as"] == "UTF-16, semicolon-separated"
    assert body["rows_imported"] == 3


def test_file_in_no_accepted_encoding_fails_saying_where_and_writes_nothing(org, campaign):
    content = csv_bytes(native()) + b"n-9,2026-11-02T11:00:00Z,answered,1,\x81\x8d,Auto\r\n"

    call_import = run_import(org, content)

    assert call_import.status == "failed"
    assert "not text in UTF-8, UTF-16 or Windows-1252" in call_import.detail
    assert "offset" in call_import.detail
    assert not Call.objects.for_organization(org).exists()


def test_missing_columns_say_how_the_file_was_read(org, campaign):
    # A semicolon file read as one column would say "missing column(s)" with no hint.
    content = "Transaction ID\tCall Start Time\n1\t2\n".encode("utf-16")

    call_import = run_import(org, content, import_format="ringba")

    assert call_import.status == "failed"
    assert "read as UTF-16, tab-separated" in call_import.detail
    assert "Transaction ID, Call Start Time" in call_import.detail


@pytest.mark.parametrize("delimiter", ["|", "\t"])
@pytest.mark.parametrize("sample", ["invoca_report.csv", "invoca_transactions.csv"])
def test_invoca_pipe_and_tab_exports_import_like_the_comma_one(org, sample, delimiter):
    comma = (SAMPLES / sample).read_bytes()
    rows = list(csv.reader(io.StringIO(comma.decode("utf-8-sig"))))
    expected = run_import(org, comma, import_format="invoca")
    stored = list(Call.objects.for_organization(org).order_by("external_id").values())
    Call.objects.for_organization(org).delete()

    call_import = run_import(org, csv_bytes(rows, delimiter=delimiter), import_format="invoca")

    assert call_import.delimiter == delimiter
    assert call_import.rows_imported == expected.rows_imported > 0
    assert (call_import.rows_failed, call_import.rows_skipped) == (
        expected.rows_failed,
        expected.rows_skipped,
    )
    again = list(Call.objects.for_organization(org).order_by("external_id").values())
    ignored = {"id", "created_at", "updated_at"}
    assert [{k: v for k, v in c.items() if k not in ignored} for c in again] == [
        {k: v for k, v in c.items() if k not in ignored} for c in stored
    ]


# --- rows and calls apart ------------------------------------------------------------------


def test_duplicate_rows_are_counted_apart_from_distinct_calls(
    api_client, org, campaign, monkeypatch
):
    monkeypatch.setattr(calls.services, "IMPORT_CHUNK_ROWS", 2)
    row = ["2026-11-02T10:00:00-05:00", "answered", "125", "Pub"]
    rows = [["d-1", *row], ["d-2", *row], ["d-1", *row], ["d-3", *row], ["d-1", *row]]
    rows += [["d-4", "not a date", "answered", "1", "Pub"]]
    upload = SimpleUploadedFile("dups.csv", csv_bytes(native(rows)), content_type="text/csv")
    data = {"file": upload, "format": "native", "create_missing": "true"}

    body = api_client.post(URL, data, format="multipart").json()

    assert (body["rows_total"], body["rows_imported"], body["rows_failed"]) == (6, 5, 1), body
    assert (body["calls_written"], body["rows_duplicate"]) == (3, 2)
    assert Call.objects.for_organization(org).count() == 3


# --- numbers too large for any column ------------------------------------------------------

OVERFLOWS = ["9" * 400, "1e999", "-1e999", "inf", "nan", "Infinity", "1" + "0" * 5000]


@pytest.mark.parametrize("value", OVERFLOWS, ids=lambda v: v[:8])
@pytest.mark.parametrize("column", ["duration_seconds", "revenue", "cost", "campaign_id"])
def test_overflowing_number_is_a_row_error_naming_its_column(org, campaign, column, value):
    header = ["external_id", "started_at", "status", "duration_seconds", "revenue", "cost"]
    good = ["ok-1", "2026-11-02T10:00:00Z", "answered", "60", "1", "0"]
    bad = ["bad-1", "2026-11-02T10:01:00Z", "answered", "60", "1", "0"]
    if column == "campaign_id":
        header, good, bad = [*header, column], [*good, str(campaign.pk)], [*bad, value]
    else:
        bad[header.index(column)] = value
        header, good, bad = [*header, "campaign_name"], [*good, "Auto"], [*bad, "Auto"]
    after = ["ok-2", *good[1:]]

    call_import = run_import(org, csv_bytes([header, good, bad, after]))

    assert call_import.status == "done", call_import.detail
    assert (call_import.rows_imported, call_import.rows_failed) == (2, 1)
    assert [(e["row"], e["column"]) for e in call_import.errors] == [(3, column)]
    assert len(call_import.errors[0]["error"]) < 200  # the cell is not quoted whole


@pytest.mark.parametrize("value", OVERFLOWS[:3], ids=lambda v: v[:8])
def test_overflowing_number_in_a_preset_column_is_a_row_error(org, value):
    rows = list(csv.reader(io.StringIO((SAMPLES / "ringba_call_log.csv").read_text())))
    header = rows[0]
    expected = run_import(org, csv_bytes(rows), import_format="ringba")
    for column in ("connectedCallLengthInSeconds", "conversionAmount", "payoutAmount"):
        changed = [row[:] for row in rows]
        changed[1][header.index(column)] = value
        call_import = run_import(org, csv_bytes(changed), import_format="ringba")
        assert call_import.status == "done", call_import.detail
        assert call_import.rows_failed == expected.rows_failed + 1
        assert (2, column) in [(e["row"], e["column"]) for e in call_import.errors]


# --- every error kept, downloadable --------------------------------------------------------


def errors_file(rows: int) -> bytes:
    return csv_bytes(
        native([[f"e-{i}", "yesterday", "answered", "1", "=cmd()"] for i in range(rows)])
    )


def test_every_row_error_is_in_the_csv_download_not_only_the_first_listed(
    api_client, org, campaign, monkeypatch
):
    monkeypatch.setattr(CallImport, "ERROR_REPORT_LIMIT", 3)
    upload = SimpleUploadedFile("bad.csv", errors_file(5), content_type="text/csv")
    body = api_client.post(URL, {"file": upload, "format": "native"}, format="multipart").json()
    assert len(body["errors"]) == 3
    assert (body["errors_total"], body["errors_dropped"]) == (5, 0)

    response = api_client.get(body["errors_csv"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["row", "column", "message"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(str(n), "started_at") for n in range(2, 7)]
    assert response["X-Errors-Dropped"] == "0"


def test_errors_beyond_the_kept_cap_are_counted_and_said(org, campaign, monkeypatch):
    monkeypatch.setattr(CallImport, "ERROR_KEEP_LIMIT", 2)

    call_import = run_import(org, errors_file(5))

    assert len(call_import.errors) == 2
    assert call_import.errors_dropped == 3
    assert call_import.rows_failed == 5


def test_import_page_offers_the_errors_csv_and_says_what_was_dropped(
    member_client, org, campaign, monkeypatch
):
    monkeypatch.setattr(CallImport, "ERROR_KEEP_LIMIT", 2)
    call_import = run_import(org, errors_file(4))

    page = member_client.get(f"/settings/imports/{call_import.pk}/").content.decode()
    assert f"/settings/imports/{call_import.pk}/errors.csv" in page
    assert "2 more errors were counted but not kept" in page
    assert '<span id="import-read-as">UTF-8, comma-separated</span>' in page

    response = member_client.get(f"/settings/imports/{call_import.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 3
    # The file's own cell, quoted in a message, cannot run as a formula in a spreadsheet.
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_errors_csv_of_another_tenants_import_is_a_404(
    api_client, other_api_client, member_client, org, campaign
):
    call_import = run_import(org, errors_file(2))
    assert other_api_client.get(f"{URL}{call_import.pk}/errors.csv").status_code == 404
    assert api_client.get(f"{URL}{call_import.pk}/errors.csv").status_code == 200


def test_cli_prints_the_shape_the_counts_and_writes_every_error(org, campaign, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_bytes(errors_file(3))
    errors_csv = tmp_path / "errors.csv"
    out = io.StringIO()

    call_command(
        "import_calls",
        str(path),
        org=org.slug,
        format="native",
        show_errors=1,
        errors_csv=errors_csv,
        stdout=out,
    )

    output = out.getvalue()
    assert "Read as UTF-8, comma-separated." in output
    assert "rows imported: 0, as 0 distinct calls (0 duplicate rows" in output
    assert "All 3 row errors written to" in output
    assert len(errors_csv.read_text().splitlines()) == 4


def test_import_pages_show_rows_and_distinct_calls_apart(member_client, org, campaign):
    row = ["2026-11-02T10:00:00-05:00", "answered", "125", "Pub"]
    rows = [["p-1", *row], ["p-2", *row], ["p-1", *row]]
    call_import = run_import(org, csv_bytes(native(rows)))

    listing = member_client.get("/settings/imports/").content.decode()
    assert '<th class="num">Rows imported</th><th class="num">Calls</th>' in listing
    assert '<td class="num">3</td>\n      <td class="num">2</td>' in listing
    page = member_client.get(f"/settings/imports/{call_import.pk}/").content.decode()
    assert '3</span> rows imported as <strong id="import-calls">2</strong> distinct calls' in page
    assert '<span id="import-duplicates">1</span> duplicate rows' in page
