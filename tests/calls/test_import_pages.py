"""The CSV import settings pages: upload, progress, row errors; readers see imports but
cannot upload; another tenant's import is a 404.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calls.forms import CallImportForm
from calls.models import Call, CallImport, ImportStatus


def text(response) -> str:
    return response.content.decode()


# --- CSV import ----------------------------------------------------------------------------

STATIC = Path(__file__).resolve().parents[2] / "static"
NATIVE_CSV = (
    b"external_id,started_at,status,duration_seconds,campaign_name,publisher_name,revenue\n"
    b"imp-1,2026-11-02T10:00:00-05:00,answered,125,Imported campaign,Pub A,35.00\n"
    b"imp-2,2026-11-02T10:05:00-05:00,missed,0,Imported campaign,Pub A,0\n"
    b"imp-3,2026-11-02T10:10:00-05:00,bogus,30,Imported campaign,Pub A,0\n"
    b"imp-4,not a date,answered,30,Imported campaign,Pub A,0\n"
)


def native_upload(content: bytes = NATIVE_CSV, name: str = "calls.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _upload(client, **overrides):
    data = {"file": native_upload(), "format": "native", "create_missing": "on", **overrides}
    return client.post("/settings/imports/", data)


def test_upload_imports_a_small_file_and_reports_row_errors(member_client, org):
    response = _upload(member_client)
    assert response.status_code == 302
    call_import = CallImport.objects.for_organization(org).get()
    assert response["Location"] == f"/settings/imports/{call_import.pk}/"
    assert call_import.status == ImportStatus.DONE
    assert (call_import.rows_total, call_import.rows_imported, call_import.rows_failed) == (4, 2, 2)
    assert call_import.created_by == member_client.user
    assert set(Call.objects.for_organization(org).values_list("external_id", flat=True)) == {
        "imp-1",
        "imp-2",
    }

    page = text(member_client.get(response["Location"]))
    assert "Done" in page and "4 / 4" in page
    assert '<table class="import-errors">' in page
    # Spreadsheet row numbers: the header is row 1.
    assert [(e["row"], e["column"]) for e in call_import.errors] == [
        (4, "status"),
        (5, "started_at"),
    ]
    assert '<td class="num">4</td><td>status</td>' in page
    assert '<td class="num">5</td><td>started_at</td>' in page
    assert "fetch(" not in page  # finished: no polling


def test_upload_without_create_missing_reports_unknown_campaigns(member_client, org):
    response = _upload(member_client, create_missing="")
    call_import = CallImport.objects.for_organization(org).get()
    assert response.status_code == 302
    assert call_import.rows_imported == 0
    assert any(error["column"] == "campaign_name" for error in call_import.errors)


def test_large_upload_runs_in_the_background(
    member_client, org, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(member_client)
    assert response.status_code == 302
    call_import = CallImport.objects.for_organization(org).get()
    assert call_import.status == ImportStatus.DONE
    assert call_import.rows_imported == 2


def test_running_import_page_polls_the_import_api(member_client, org):
    call_import = CallImport.objects.create(
        organization=org,
        format="native",
        file=f"imports/{org.pk}/big.csv",
        original_name="big.csv",
        status=ImportStatus.RUNNING,
        rows_total=1000,
        rows_done=250,
    )
    response = member_client.get(f"/settings/imports/{call_import.pk}/")
    page = text(response)
    assert "250 / 1000" in page
    assert 'value="250"' in page and 'max="1000"' in page
    assert f'data-progress-url="/api/v1/imports/{call_import.pk}"' in page
    assert '<script src="/static/js/import_progress.js" defer>' in page
    assert "fetch(" in (STATIC / "js" / "import_progress.js").read_text()
    assert "import-errors" not in page
    # The session that shows the page may read the API it polls.
    body = member_client.get(response.context["progress_url"]).json()
    assert (body["rows_done"], body["rows_total"], body["status"]) == (250, 1000, "running")


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"file": ""}, "file", "This field is required"),
        ({"format": "excel"}, "format", "Select a valid choice"),
        ({"file": SimpleUploadedFile("empty.csv", b"")}, "file", "The submitted file is empty"),
    ],
)
def test_upload_errors_are_shown_on_their_field(member_client, org, overrides, field, message):
    response = _upload(member_client, **overrides)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not CallImport.objects.exists()


def test_upload_over_the_page_limit_is_refused(member_client, org, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = _upload(member_client, file=native_upload(NATIVE_CSV * 2))
    assert response.status_code in (200, 413)
    assert not CallImport.objects.exists()


def test_import_form_refuses_a_file_over_the_page_limit(settings):
    # The middleware refuses such a body from its Content-Length; the form still checks the
    # file itself, for a request that came without one (chunked).
    settings.API_MAX_BODY_BYTES = 100
    form = CallImportForm(data={"format": "native"}, files={"file": native_upload()})
    assert not form.is_valid()
    assert "upload it through the API" in " ".join(form.errors["file"])


def test_file_that_is_not_the_format_fails_with_the_missing_columns(member_client, org):
    response = _upload(member_client, file=native_upload(b"foo,bar\n1,2\n"))
    call_import = CallImport.objects.for_organization(org).get()
    assert call_import.status == ImportStatus.FAILED
    page = text(member_client.get(response["Location"]))
    assert "missing column(s) external_id, started_at, status" in page


def test_import_list_shows_own_recent_imports(member_client, org, other_org):
    for organization, name in [(org, "mine.csv"), (other_org, "rival.csv")]:
        CallImport.objects.create(
            organization=organization,
            format="ringba",
            file=f"imports/{organization.pk}/{name}",
            original_name=name,
            status=ImportStatus.DONE,
        )
    page = text(member_client.get("/settings/imports/"))
    assert "mine.csv" in page
    assert "rival.csv" not in page


def test_viewer_sees_imports_but_cannot_upload(viewer_client, org):
    call_import = CallImport.objects.create(
        organization=org, format="native", file="imports/x.csv", original_name="x.csv"
    )
    assert viewer_client.get(f"/settings/imports/{call_import.pk}/").status_code == 200
    assert _upload(viewer_client).status_code == 403
    assert CallImport.objects.count() == 1


def test_other_tenants_import_is_404(member_client, other_org):
    call_import = CallImport.objects.create(
        organization=other_org, format="native", file="imports/r.csv", original_name="r.csv"
    )
    assert member_client.get(f"/settings/imports/{call_import.pk}/").status_code == 404
