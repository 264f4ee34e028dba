"""POST /api/v1/imports/ (multipart CSV upload) and GET of the import's progress and report."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calls.models import Call, CallImport
from tests.factories import CampaignFactory

URL = "/api/v1/imports/"
SAMPLES = Path(__file__).parent / "samples"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="text/csv")


def test_post_small_import_runs_it_and_returns_the_report(api_client, org):
    response = api_client.post(
        URL,
        {"file": upload("ringba_call_log.csv"), "format": "ringba", "create_missing": "true"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done"
    assert (body["format"], body["original_name"]) == ("ringba", "ringba_call_log.csv")
    assert (body["rows_total"], body["rows_imported"], body["rows_failed"]) == (9, 5, 3)
    assert body["rows_skipped"] == 1
    first_error = body["errors"][0]
    assert (first_error["row"], first_error["column"]) == (7, "callDt")
    assert "'yesterday' is not a date and time" in first_error["error"]
    assert Call.objects.for_organization(org).count() == 5


def test_get_import_shows_rows_done_of_rows_total(api_client, org):
    created = api_client.post(
        URL,
        {"file": upload("callrail_calls.csv"), "format": "callrail", "create_missing": "true"},
        format="multipart",
    ).json()
    response = api_client.get(f"{URL}{created['id']}/")
    assert response.status_code == 200
    body = response.json()
    assert body["rows_done"] == body["rows_total"] == 8
    assert body["progress"] == 1.0
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (7, "lead_status"),
        (8, "answered"),
    ]


def test_large_import_runs_in_the_background_and_reports_progress(
    api_client, org, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            URL,
            {"file": upload("retreaver_calls.csv"), "format": "retreaver", "create_missing": "1"},
            format="multipart",
        )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    body = api_client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "done"
    assert (body["rows_done"], body["rows_total"], body["rows_imported"]) == (8, 8, 6)


def test_post_unknown_format_is_400_and_stores_nothing(api_client, org):
    response = api_client.post(
        URL, {"file": upload("ringba_call_log.csv"), "format": "five9"}, format="multipart"
    )
    assert response.status_code == 400
    assert "asterisk" in response.json()["errors"]["format"][0]
    assert not CallImport.objects.for_organization(org).exists()


def test_import_of_another_tenant_is_404(api_client, other_api_client, org):
    created = api_client.post(
        URL,
        {"file": upload("callrail_calls.csv"), "format": "callrail", "create_missing": "true"},
        format="multipart",
    ).json()
    assert other_api_client.get(f"{URL}{created['id']}/").status_code == 404


NAIVE_NATIVE_CSV = (
    b"external_id,started_at,status,duration_seconds,campaign_name\n"
    b"N1,2026-07-14 09:05:00,answered,95,Named In The File\n"
)


def test_import_options_are_kept_and_used_by_the_background_run(
    api_client, org, settings, django_capture_on_commit_callbacks
):
    CampaignFactory(organization=org, name="Solar Leads")
    settings.IMPORT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            URL,
            {
                "file": SimpleUploadedFile("pbx.csv", NAIVE_NATIVE_CSV),
                "format": "native",
                "campaign": "Solar Leads",
                "source_timezone": "UTC",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    assert response.json()["options"] == {"campaign": "Solar Leads", "source_timezone": "UTC"}
    call = Call.objects.get(organization=org, external_id="N1")
    # 09:05 on the source's clock (UTC), not in the tenant's zone (New York, 13:05 UTC).
    assert call.started_at == dt.datetime(2026, 7, 14, 9, 5, tzinfo=dt.UTC)
    assert call.campaign.name == "Solar Leads"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"source_timezone": "Mars/Olympus"}, "source_timezone", "not an IANA time zone"),
        ({"campaign": "Nope"}, "campaign", "No campaign named 'Nope'"),
        ({"campaign": "x" * 201, "create_missing": "true"}, "campaign", "At most 200"),
        ({"columns": "src,dst"}, "columns", "not an option of the native format"),
        ({"internal_context": "from-internal"}, "internal_context", "not an option"),
    ],
)
def test_import_options_that_do_not_fit_are_400_and_store_nothing(
    api_client, org, fields, field, message
):
    response = api_client.post(
        URL,
        {"file": SimpleUploadedFile("x.csv", NAIVE_NATIVE_CSV), "format": "native", **fields},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert message in response.json()["errors"][field][0]
    assert not CallImport.objects.for_organization(org).exists()


def test_an_unknown_campaign_is_created_when_create_missing_says_so(api_client, org):
    response = api_client.post(
        URL,
        {
            "file": SimpleUploadedFile("x.csv", NAIVE_NATIVE_CSV),
            "format": "native",
            "campaign": "Brand New",
            "create_missing": "true",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert Call.objects.get(organization=org).campaign.name == "Brand New"
