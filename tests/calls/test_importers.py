"""CSV presets end to end: sample exports through `call_import_run` and `manage.py import_calls`.

The samples in tests/calls/samples/ are shaped like the platforms' real exports, each with a
few bad rows. The organization's time zone is America/New_York.
"""

import datetime as dt
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.importers import PRESETS
from calls.importers.asterisk import CDR_CSV_COLUMNS, AsteriskPreset
from calls.importers.base import Column, HeaderColumns, ImportOptions
from calls.ingest import ConversionUpdate, call_conversion_record
from calls.models import Call, CallImport, CallSource, ImportStatus
from calls.services import call_import_run
from tests.factories import CampaignFactory, PublisherFactory, TrackingNumberFactory

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_OF_FORMAT = {
    "ringba": "ringba_call_log.csv",
    "retreaver": "retreaver_calls.csv",
    "invoca": "invoca_transactions.csv",
    "callrail": "callrail_calls.csv",
    "twilio": "twilio_call_log.csv",
    "asterisk": "asterisk_Master.csv",
}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def run_import(
    org, import_format: str, *, sample: str = "", create_missing=True, **options
) -> CallImport:
    sample = sample or SAMPLE_OF_FORMAT[import_format]
    call_import = CallImport(
        organization=org,
        format=import_format,
        original_name=sample,
        create_missing=create_missing,
        options=ImportOptions(**options).as_json(),
    )
    call_import.file.save(sample, ContentFile((SAMPLES / sample).read_bytes()), save=False)
    call_import.save()
    return call_import_run(call_import_id=call_import.pk)


def run_import_text(
    org, import_format: str, text: str, *, create_missing=True, **options
) -> CallImport:
    call_import = CallImport(
        organization=org,
        format=import_format,
        original_name="x.csv",
        create_missing=create_missing,
        options=ImportOptions(**options).as_json(),
    )
    call_import.file.save("x.csv", ContentFile(text.encode()), save=False)
    call_import.save()
    return call_import_run(call_import_id=call_import.pk)


def calls_of(org) -> dict[str, Call]:
    calls = Call.objects.for_organization(org).select_related("campaign", "publisher", "buyer")
    return {call.external_id: call for call in calls}


def statuses(org) -> dict[str, str]:
    return {external_id: call.status for external_id, call in calls_of(org).items()}


def error_columns(call_import: CallImport) -> dict[int, set[str]]:
    columns: dict[int, set[str]] = {}
    for error in call_import.errors:
        columns.setdefault(error["row"], set()).add(error["column"])
    return columns


def snapshot(org) -> list[tuple]:
    return list(
        Call.objects.for_organization(org)
        .order_by("external_id")
        .values_list(
            "external_id",
            "status",
            "started_at",
            "duration_seconds",
            "campaign_id",
            "publisher_id",
            "buyer_id",
            "tracking_number_id",
            "dialed_number",
            "caller_number",
            "caller_region",
            "converted",
            "revenue",
            "cost",
            "tags",
        )
    )


@pytest.fixture
def tracking_number(org):
    """The tracking number the Twilio and Asterisk samples were dialed on."""
    return TrackingNumberFactory(
        organization=org,
        number="+18885550100",
        campaign=CampaignFactory(organization=org, name="Auto Insurance"),
        publisher=PublisherFactory(organization=org, name="Star Media"),
    )


# --- every preset --------------------------------------------------------------------------


def test_every_preset_is_registered_and_documents_its_mapping():
    assert set(SAMPLE_OF_FORMAT) | {"native"} == set(PRESETS)
    for preset in PRESETS.values():
        module_doc = sys.modules[preset.__module__].__doc__ or ""
        assert "mapping" in module_doc.lower(), preset.name


@pytest.mark.parametrize("import_format", sorted(SAMPLE_OF_FORMAT))
def test_reimporting_the_same_file_changes_nothing(org, tracking_number, import_format):
    first = run_import(org, import_format)
    before = snapshot(org)
    second = run_import(org, import_format)

    assert first.status == second.status == ImportStatus.DONE
    assert before and snapshot(org) == before
    assert (second.rows_imported, second.rows_failed) == (first.rows_imported, first.rows_failed)
    assert second.errors == first.errors


@pytest.mark.parametrize("import_format", sorted(SAMPLE_OF_FORMAT))
def test_progress_reaches_the_row_total(org, tracking_number, import_format):
    call_import = run_import(org, import_format)
    assert call_import.rows_total == call_import.rows_done > 0
    assert set(Call.objects.for_organization(org).values_list("source", flat=True)) == {
        CallSource(import_format)
    }


def test_file_without_the_presets_columns_fails_naming_the_missing_columns(org):
    call_import = run_import(org, "ringba", sample="callrail_calls.csv")
    assert call_import.status == ImportStatus.FAILED
    assert "not a ringba export" in call_import.detail
    assert {e["column"] for e in call_import.errors} == {
        'inboundCallId (or "Inbound Call ID")',
        'callDt (or "Call Date")',
    }
    assert all(e["row"] == 1 for e in call_import.errors)
    assert not Call.objects.for_organization(org).exists()


def test_headers_match_without_regard_to_case_spaces_and_punctuation(org):
    call_import = run_import_text(
        org,
        "ringba",
        "INBOUND CALL ID,Call-Dt,has_connected,Campaign Name\n"
        "RGB1,2026-11-03T16:05:00Z,maybe,Auto Insurance\n"
        "RGB2,2026-11-03T16:06:00Z,false,Auto Insurance\n",
    )
    assert set(statuses(org)) == {"RGB2"}
    # An error names the column as this file spells it.
    assert [(e["row"], e["column"]) for e in call_import.errors] == [(2, "has_connected")]


def test_header_columns_claim_each_header_once_in_the_order_columns_are_declared():
    columns = (
        Column("talk", ("connectedCallLengthInSeconds", "Duration")),
        Column("length", ("callLengthInSeconds", "Duration"), required=True),
        Column("id", ("inboundCallId", "Inbound Call ID"), required=True),
    )
    found = HeaderColumns(columns, ["Duration", "Call #", "inbound_call_id"])
    assert found.headers == {"talk": "Duration", "id": "inbound_call_id"}
    assert found.missing() == ['callLengthInSeconds (or "Duration")']
    assert found.unclaimed == ["Call #"]
    assert found.header_of("length") == "callLengthInSeconds"


def test_native_columns_may_be_spelled_as_a_spreadsheet_titles_them(org):
    call_import = run_import_text(
        org,
        "native",
        "External ID,Started At,Status,Campaign Name,Caller Number,tag:utm_source\n"
        "N1,2026-11-03T16:05:00Z,missed,Auto Insurance,(312) 555-0100,google\n",
    )
    assert call_import.errors == []
    call = calls_of(org)["N1"]
    assert (call.status, call.campaign.name, call.caller_number) == (
        "missed",
        "Auto Insurance",
        "+13125550100",
    )
    assert call.tags == {"utm_source": "google"}


def test_rows_that_are_not_calls_are_counted_as_skipped_not_failed(org):
    call_import = run_import(org, "invoca")
    assert call_import.rows_skipped == 1  # the Signal transaction on row 4
    assert 4 not in error_columns(call_import)


# --- ringba --------------------------------------------------------------------------------


def test_ringba_maps_connected_and_target_to_statuses(org):
    run_import(org, "ringba")
    assert statuses(org) == {
        "RGB3f9a1c0e01": "answered",
        "RGB3f9a1c0e02": "answered",
        "RGB3f9a1c0e03": "missed",  # not connected, a target rang
        "RGB3f9a1c0e04": "no_buyer",  # not connected, no target
        "RGB3f9a1c0e05": "answered",
    }


def test_ringba_reads_money_dates_names_and_tags(org):
    run_import(org, "ringba")
    calls = calls_of(org)
    first = calls["RGB3f9a1c0e01"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert first.duration_seconds == 210  # connected talk time, not callLengthInSeconds
    assert (first.revenue, first.cost, first.converted) == (Decimal("45"), Decimal("12.5"), True)
    assert (first.campaign.name, first.publisher.name) == ("Auto Insurance", "Star Media")
    assert first.buyer.name == "Acme Insurance Buyer"
    assert (first.dialed_number, first.caller_number) == ("+18885550100", "+13125550100")
    assert first.caller_region == "IL"
    assert first.tags == {
        "InboundNumber:State": "IL",
        "InboundNumber:City": "Chicago",
        "User:utm_source": "google",
        "isDuplicate": False,
        "publisherSubId": "sub-42",
        "targetNumber": "+18005550199",
    }
    # Epoch milliseconds, "$1,234.50", "Yes".
    assert calls["RGB3f9a1c0e02"].started_at == utc(2026, 11, 3, 16, 15)
    assert calls["RGB3f9a1c0e02"].revenue == Decimal("1234.50")
    assert calls["RGB3f9a1c0e02"].converted is True
    # Ringba's own form, read in the tenant's time zone (EST), and "... -05:00 (EST)".
    assert calls["RGB3f9a1c0e03"].started_at == utc(2026, 11, 3, 21, 15)
    assert calls["RGB3f9a1c0e04"].started_at == utc(2026, 11, 3, 21, 20)
    assert calls["RGB3f9a1c0e03"].duration_seconds == 0
    assert calls["RGB3f9a1c0e05"].tags["isDuplicate"] is True


def test_ringba_reports_bad_rows_by_row_and_column_and_imports_the_others(org):
    call_import = run_import(org, "ringba")
    assert call_import.status == ImportStatus.DONE
    assert (call_import.rows_total, call_import.rows_imported, call_import.rows_failed) == (9, 5, 3)
    assert error_columns(call_import) == {
        7: {"callDt"},
        8: {"hasConnected"},
        9: {"conversionAmount"},
    }
    assert "'yesterday' is not a date and time" in call_import.errors[0]["error"]


def test_ringba_caller_is_inbound_phone_number_and_the_tracking_number_is_number(
    org, tracking_number
):
    run_import(org, "ringba")
    calls = calls_of(org)
    answered_or_missed = [calls[f"RGB3f9a1c0e0{n}"] for n in range(1, 6)]
    assert {call.dialed_number for call in answered_or_missed} == {"+18885550100"}
    assert {call.tracking_number for call in answered_or_missed} == {tracking_number}
    assert [call.caller_number for call in answered_or_missed] == [
        "+13125550100",
        "+13125550102",
        "+13125550103",
        "+13125550104",
        "+13125550100",
    ]
    # Four different callers and one who called again, not one caller with four repeats.
    assert [call.external_id for call in answered_or_missed if call.is_repeat] == ["RGB3f9a1c0e05"]


def test_ringba_call_in_progress_is_skipped_not_stored_as_missed(org):
    call_import = run_import(org, "ringba")
    assert "RGB3f9a1c0e09" not in calls_of(org)  # isLive=true on row 10
    assert call_import.rows_skipped == 1
    assert 10 not in error_columns(call_import)


def test_ringba_console_download_is_read_by_its_display_headers(org):
    call_import = run_import(org, "ringba", sample="ringba_console_call_log.csv")
    assert call_import.status == ImportStatus.DONE, call_import.detail
    assert call_import.errors == []
    calls = calls_of(org)
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "RGBc0a1": ("answered", 210),
        "RGBc0a2": ("missed", 0),  # a target, no talk time
        "RGBc0a3": ("no_buyer", 0),  # no target
        "RGBc0a4": ("answered", 95),  # "00:01:35"
    }
    first = calls["RGBc0a1"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)  # Call Date in the tenant's zone
    assert (first.caller_number, first.caller_region) == ("+13125550111", "IL")
    assert (first.campaign.name, first.publisher.name, first.buyer.name) == (
        "Auto Insurance",
        "Star Media",
        "Acme Insurance Buyer",
    )
    assert (first.revenue, first.cost, first.converted) == (Decimal("45"), Decimal("12.5"), True)
    assert first.tags == {"InboundNumber:State": "IL", "User:utm_source": "google"}


def test_ringba_unknown_names_without_create_missing_name_the_users_columns(org):
    CampaignFactory(organization=org, name="Auto Insurance")
    call_import = run_import(org, "ringba", create_missing=False)
    assert call_import.rows_imported == 0
    assert {"publisherName", "targetName"} <= error_columns(call_import)[2]
    assert any("Unknown publisher 'Star Media'" in e["error"] for e in call_import.errors)


# --- retreaver -----------------------------------------------------------------------------


def test_retreaver_maps_statuses_money_and_dates(org):
    call_import = run_import(org, "retreaver")
    calls = calls_of(org)
    assert {k[-3:]: c.status for k, c in calls.items()} == {
        "e01": "answered",
        "e02": "missed",
        "e03": "no_buyer",
        "e04": "answered",
        "e05": "answered",
        "e08": "missed",  # no target named, but one was dialed and the caller held for it
    }
    first = calls["5d1c2a8e-0b7f-4d2a-9f3e-1a2b3c4d5e01"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert (first.duration_seconds, first.converted) == (235, True)
    assert (first.revenue, first.cost) == (Decimal("25"), Decimal("10"))
    assert (first.campaign.name, first.publisher.name, first.buyer.name) == (
        "Home Warranty",
        "Sunrise Calls",
        "Shield Home",
    )
    assert (first.dialed_number, first.caller_region) == ("+18885550200", "IL")
    assert first.tags == {
        "duplicate": False,
        "repeat": False,
        "hung_up_by": "caller",
        "caller_city": "Chicago",
        "caller_zip": "60601",
        "sub_id": "s-17",
        "traffic_type": "search",
    }
    epoch = calls["5d1c2a8e-0b7f-4d2a-9f3e-1a2b3c4d5e03"]
    assert epoch.started_at == utc(2026, 11, 3, 16, 30)
    repeat = calls["5d1c2a8e-0b7f-4d2a-9f3e-1a2b3c4d5e04"]
    assert repeat.cost == Decimal("1000")
    assert (repeat.tags["duplicate"], repeat.tags["repeat"], repeat.tags["hung_up_by"]) == (
        True,
        True,
        "target",
    )
    # "12" is no phone number, but a call from it is still a call.
    assert calls["5d1c2a8e-0b7f-4d2a-9f3e-1a2b3c4d5e05"].caller_number == "12"
    assert error_columns(call_import) == {7: {"start_time"}}


def test_retreaver_call_in_progress_is_skipped_not_stored_as_no_buyer(org):
    call_import = run_import(org, "retreaver")
    assert "5d1c2a8e-0b7f-4d2a-9f3e-1a2b3c4d5e07" not in calls_of(org)  # status in-progress
    assert call_import.rows_skipped == 1
    assert 8 not in error_columns(call_import)


def test_retreaver_reads_its_export_headers(org):
    call_import = run_import_text(
        org,
        "retreaver",
        "Call UUID,Caller,Number,Start Time,Connected,Status,Campaign Name,Publisher Name,"
        "Buyer Name,Dialed Number,Hold Duration,Dialed Call Duration,Hung Up By\n"
        "u-1,(312) 555-0120,(888) 555-0200,2026-11-03T16:05:00Z,true,finished,Home Warranty,"
        "Sunrise Calls,Shield Home,+18005550177,4,61,caller\n",
    )
    assert call_import.errors == []
    call = calls_of(org)["u-1"]
    assert (call.status, call.duration_seconds) == ("answered", 61)
    assert (call.caller_number, call.dialed_number) == ("+13125550120", "+18885550200")
    assert (call.publisher.name, call.buyer.name) == ("Sunrise Calls", "Shield Home")
    assert call.tags == {"hung_up_by": "caller"}


# --- invoca --------------------------------------------------------------------------------


def test_invoca_status_follows_connect_duration_and_payin_converts(org):
    call_import = run_import(org, "invoca")
    calls = calls_of(org)
    assert {k: c.status for k, c in calls.items()} == {
        "C624DA2C-CF3367C3": "answered",
        "C624DA2D-0A1B2C3D": "answered",  # missed, then corrected on row 6
        "C624DA2F-0A1B2C3F": "missed",
    }
    first = calls["C624DA2C-CF3367C3"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert (first.duration_seconds, first.converted) == (245, True)
    assert (first.revenue, first.cost) == (Decimal("35"), Decimal("12"))
    assert (first.campaign.name, first.publisher.name) == ("Medicare Advantage", "Star Media")
    assert (first.caller_number, first.caller_region) == ("+13125550121", "IL")
    assert first.tags == {"complete_call_id": "7F3A0C1E22B14D", "call_result": "Completed"}
    corrected = calls["C624DA2D-0A1B2C3D"]
    assert (corrected.duration_seconds, corrected.revenue, corrected.cost) == (
        130,
        Decimal("20"),
        Decimal("8"),
    )
    unanswered = calls["C624DA2F-0A1B2C3F"]
    assert (unanswered.converted, unanswered.caller_number) == (False, "")  # "Anonymous"
    assert error_columns(call_import) == {7: {"connect_duration"}, 8: {"start_time_utc"}}


def test_invoca_skips_rows_that_are_not_calls(org):
    run_import(org, "invoca")
    assert not Call.objects.for_organization(org).filter(external_id="C624DA2E-0A1B2C3E").exists()


def test_invoca_report_download_is_read_by_its_headers(org):
    call_import = run_import(org, "invoca", sample="invoca_report.csv")
    assert call_import.status == ImportStatus.DONE, call_import.detail
    assert call_import.errors == []
    assert call_import.rows_skipped == 1  # the Signal
    calls = calls_of(org)
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "D724DA2C-CF3367C3": ("answered", 245),  # "00:04:05"
        "D724DA2D-0A1B2C3D": ("missed", 0),
        "D724DA2F-0A1B2C3F": ("answered", 70),
    }
    first = calls["D724DA2C-CF3367C3"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)  # Call Start Time, the tenant's zone
    assert (first.caller_number, first.caller_region) == ("+13125550161", "IL")
    assert (first.campaign.name, first.publisher.name) == ("Medicare Advantage", "Star Media")
    assert (first.revenue, first.cost, first.converted) == (Decimal("35"), Decimal("12"), True)
    assert first.tags == {
        "complete_call_id": "8F3A0C1E22B14D",
        "call_result": "Paid",
        "repeat_calling_phone_number": False,
    }
    assert calls["D724DA2F-0A1B2C3F"].tags["repeat_calling_phone_number"] is True


# --- callrail ------------------------------------------------------------------------------


def test_callrail_maps_answered_voicemail_and_lead_status(org):
    call_import = run_import(org, "callrail")
    calls = calls_of(org)
    assert {k[-2:]: (c.status, c.converted) for k, c in calls.items()} == {
        "01": ("answered", True),  # good_lead
        "02": ("missed", False),  # voicemail
        "03": ("answered", False),  # not_a_lead
        "04": ("answered", False),  # previously_marked_good_lead
        "05": ("answered", True),  # "Good Lead"
    }
    first = calls["CAL8c2e4f1a01"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert (first.duration_seconds, first.revenue) == (184, Decimal("150"))
    assert (first.campaign.name, first.publisher.name) == ("Roofing Leads", "Google Ads")
    assert (first.dialed_number, first.caller_region) == ("+18885550300", "IL")
    assert calls["CAL8c2e4f1a02"].duration_seconds == 0  # ring and voicemail time
    assert calls["CAL8c2e4f1a05"].revenue == Decimal("1200")
    assert calls["CAL8c2e4f1a05"].caller_number == "+13125550135"
    assert error_columns(call_import) == {7: {"lead_status"}, 8: {"answered"}}


def test_callrail_outbound_calls_are_skipped_not_imported_as_answered(org):
    call_import = run_import(org, "callrail")
    assert "CAL8c2e4f1a08" not in calls_of(org)  # direction outbound
    assert call_import.rows_skipped == 1
    assert 9 not in error_columns(call_import)


def test_callrail_keeps_first_call_and_tags(org):
    run_import(org, "callrail")
    calls = calls_of(org)
    assert calls["CAL8c2e4f1a01"].tags == {
        "first_call": True,
        "Roof Repair": True,
        "Qualified": True,
    }
    assert calls["CAL8c2e4f1a04"].tags == {"first_call": False}


def test_callrail_call_log_export_is_read_by_its_headers(org):
    call_import = run_import(org, "callrail", sample="callrail_export.csv")
    assert call_import.errors == []
    assert call_import.rows_skipped == 1  # the outbound call
    calls = calls_of(org)
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "CALe01": ("answered", 184),
        "CALe02": ("missed", 0),  # voicemail
        "CALe03": ("abandoned", 0),
        "CALe04": ("missed", 0),
    }
    first = calls["CALe01"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert (first.caller_number, first.dialed_number, first.caller_region) == (
        "+13125550151",
        "+18885550300",
        "IL",
    )
    assert (first.revenue, first.converted) == (Decimal("150"), True)
    assert first.tags == {"first_call": True, "Roof Repair": True, "Qualified": True}


def test_callrail_file_without_a_status_column_fails_naming_both_forms(org):
    call_import = run_import_text(org, "callrail", "id,start_time\nCAL1,2026-11-03T16:05:00Z\n")
    assert call_import.status == ImportStatus.FAILED
    assert 'answered (or "Call Status")' in call_import.detail


# --- twilio --------------------------------------------------------------------------------


def test_twilio_counts_inbound_calls_with_the_outcome_of_their_dial_legs(org, tracking_number):
    call_import = run_import(org, "twilio", create_missing=False)
    calls = calls_of(org)
    assert {k[-3:]: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "801": ("answered", 160),  # the buyer leg's talk time
        "802": ("missed", 0),  # the buyer leg: no-answer
        "803": ("abandoned", 0),  # the buyer leg: canceled
        "804": ("missed", 0),
        "805": ("answered", 95),  # no dial legs in the file: the inbound row decides
        "806": ("failed", 0),
    }
    assert call_import.rows_imported == 6


def test_twilio_reads_dates_numbers_and_campaign_from_the_to_number(org, tracking_number):
    run_import(org, "twilio", create_missing=False)
    calls = calls_of(org)
    first = calls["CA0a1b2c3d4e5f60718293a4b5c6d7e801"]
    assert first.started_at == utc(2026, 11, 3, 16, 5)
    assert (first.campaign, first.publisher) == (
        tracking_number.campaign,
        tracking_number.publisher,
    )
    assert (first.dialed_number, first.caller_number) == ("+18885550100", "+13125550141")
    assert first.tags == {"price": "-0.0255"}
    assert (first.revenue, first.cost, first.converted) == (Decimal("0"), Decimal("0"), False)
    # "... UTC" is UTC, not the tenant's time.
    assert calls["CA0a1b2c3d4e5f60718293a4b5c6d7e802"].started_at == utc(2026, 11, 3, 16, 10)


def test_twilio_skips_outbound_and_unfinished_calls_and_reports_bad_rows(org, tracking_number):
    call_import = run_import(org, "twilio", create_missing=False)
    imported = set(calls_of(org))
    assert "CA0a1b2c3d4e5f60718293a4b5c6d7e807" not in imported  # outbound-api
    assert "CA0a1b2c3d4e5f60718293a4b5c6d7e808" not in imported  # in-progress
    assert error_columns(call_import) == {13: {"Duration"}, 14: {"To"}}
    unknown_number = next(e for e in call_import.errors if e["row"] == 14)
    assert "+18885550999 is not set up" in unknown_number["error"]


def test_twilio_reimport_keeps_a_conversion_posted_through_the_api(org, tracking_number):
    run_import(org, "twilio", create_missing=False)
    call_conversion_record(
        organization=org,
        external_id="CA0a1b2c3d4e5f60718293a4b5c6d7e801",
        update=ConversionUpdate(revenue=Decimal("60")),
    )
    run_import(org, "twilio", create_missing=False)
    call = calls_of(org)["CA0a1b2c3d4e5f60718293a4b5c6d7e801"]
    assert (call.converted, call.revenue) == (True, Decimal("60"))


def test_twilio_accepts_the_apis_spelling_of_the_columns(org, tracking_number):
    call_import = run_import_text(
        org,
        "twilio",
        "sid,parent_call_sid,date_created,start_time,from,to,direction,status,duration\n"
        "CA01,,2026-11-03T16:05:00Z,,+13125550141,+18885550100,inbound,completed,70\n"
        "CA02,CA01,2026-11-03T16:05:03Z,,+18885550100,+12125550199,outbound-dial,busy,0\n",
        create_missing=False,
    )
    assert call_import.rows_imported == 1, call_import.errors
    call = calls_of(org)["CA01"]
    assert (call.status, call.duration_seconds) == ("missed", 0)  # the buyer was busy
    assert call.started_at == utc(2026, 11, 3, 16, 5)  # Date Created when Start Time is empty


def test_twilio_calls_go_to_the_campaign_option_when_given(org, tracking_number):
    CampaignFactory(organization=org, name="Solar Leads")
    run_import(org, "twilio", create_missing=False, campaign="Solar Leads")
    calls = calls_of(org)
    assert {call.campaign.name for call in calls.values()} == {"Solar Leads"}
    # The tracking number still names the publisher.
    assert calls["CA0a1b2c3d4e5f60718293a4b5c6d7e801"].publisher == tracking_number.publisher


def test_twilio_file_without_a_sid_column_fails(org):
    call_import = run_import_text(org, "twilio", "From,To,Status\n+13125550141,+18885550100,busy\n")
    assert call_import.status == ImportStatus.FAILED
    assert "missing column(s) Call Sid, Start Time" in call_import.detail


# --- asterisk ------------------------------------------------------------------------------


def test_asterisk_merges_the_legs_of_a_ring_group_into_one_call(org, tracking_number):
    run_import(org, "asterisk")
    ring_group = calls_of(org)["1793725200.3"]
    assert ring_group.status == "answered"
    # Two legs log the same 240 s conversation (SIP + Local channel): counted once.
    assert ring_group.duration_seconds == 240
    assert ring_group.started_at == utc(2026, 11, 3, 17, 0)  # earliest start, EST
    assert ring_group.tags == {"legs": 4}
    assert (ring_group.dialed_number, ring_group.caller_number) == ("+18885550100", "+13125550162")
    assert ring_group.campaign == tracking_number.campaign


def test_asterisk_maps_dispositions_to_statuses(org, tracking_number):
    call_import = run_import(org, "asterisk")
    calls = calls_of(org)
    digest_id = next(k for k in calls if k.startswith("cdr-"))  # a row without uniqueid
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "1793721900.1": ("answered", 180),
        "1793725200.3": ("answered", 240),
        "1793725260.5": ("abandoned", 0),  # answered by the PBX (IVR), no buyer leg
        digest_id: ("missed", 0),  # NO ANSWER
        "1793726400.11": ("failed", 0),  # CONGESTION
        "1793727000.13": ("missed", 0),  # NO ANSWER, then voicemail
        "1793727600.15": ("answered", 120),
    }
    assert call_import.rows_imported == 7
    assert calls["1793721900.1"].started_at == utc(2026, 11, 3, 16, 5)


def test_asterisk_uses_accountcode_as_the_campaign_name(org, tracking_number):
    run_import(org, "asterisk")
    solar = calls_of(org)["1793727600.15"]
    assert solar.campaign.name == "Solar Leads"
    assert solar.dialed_number == "600"  # an extension, kept as dialed: no tracking number
    assert solar.tracking_number is None


def test_asterisk_reports_unreadable_rows_by_row_and_column(org, tracking_number):
    call_import = run_import(org, "asterisk")
    assert call_import.rows_total == 14
    assert error_columns(call_import) == {12: {"start"}, 13: {"clid"}, 14: {"disposition"}}


def test_asterisk_transfer_legs_add_up_and_a_bad_leg_holds_back_its_call():
    def leg(start, answer, billsec, disposition="ANSWERED", linkedid="1.1", dstchannel="SIP/b"):
        return {
            "src": "3125550100",
            "dst": "8885550100",
            "channel": "SIP/trunk-1",
            "dstchannel": dstchannel,
            "lastapp": "Dial",
            "start": start,
            "answer": answer,
            "billsec": billsec,
            "disposition": disposition,
            "amaflags": "DOCUMENTATION",
            "linkedid": linkedid,
            **{column: "" for column in ("accountcode", "dcontext", "clid", "lastdata")},
            **{column: "" for column in ("end", "duration")},
        }

    items = list(
        AsteriskPreset().items(
            [
                (1, leg("2026-11-03 11:00:00", "2026-11-03 11:00:05", "60")),
                (2, leg("2026-11-03 11:01:05", "2026-11-03 11:01:05", "120")),
                (3, leg("2026-11-03 11:05:00", "2026-11-03 11:05:05", "30", linkedid="2.2")),
                (4, leg("2026-11-03 11:05:00", "", "x", disposition="NO ANSWER", linkedid="2.2")),
                (5, leg("2026-11-03 11:06:00", "", "30", disposition="ANSWERED?", linkedid="2.2")),
            ]
        )
    )
    transfer = next(item for number, item in items if number == 1)
    assert (transfer["status"], transfer["duration_seconds"]) == ("answered", 180)
    errors = [item.as_dict() for _, item in items if not isinstance(item, dict)]
    # Every row of the held-back call is reported: rows that failed are counted as rows.
    assert [(e["row"], e["column"]) for e in errors] == [
        (5, "disposition"),
        (3, "linkedid"),
        (4, "linkedid"),
    ]
    assert "its leg on row 5 has an error" in errors[1]["error"]


def test_asterisk_rows_failed_counts_the_rows_of_a_held_back_call_not_the_call(
    org, tracking_number
):
    leg = (
        '"","3125550100","8885550100","from-trunk","","SIP/trunk-1","SIP/b{n}","Dial","",'
        '"2026-11-03 11:00:0{n}","","",10,0,"{disposition}","DOCUMENTATION","1.{n}","","",'
        '"1.1","{n}"\n'
    )
    call_import = run_import_text(
        org,
        "asterisk",
        leg.format(n=1, disposition="NO ANSWER")
        + leg.format(n=2, disposition="ANSWERED?")
        + leg.format(n=3, disposition="BUSY")
        + leg.format(n=4, disposition="NO ANSWER"),
    )
    assert (call_import.rows_imported, call_import.rows_failed) == (0, 4)


# --- asterisk: a PBX outside the US ---------------------------------------------------------


@pytest.fixture
def uk_org(org):
    """A tenant in the UK whose PBX clock runs in UTC."""
    org.country, org.timezone = "GB", "Europe/London"
    org.save()
    return org


UK_OPTIONS = {
    "campaign": "UK Leads",
    "source_timezone": "UTC",
    "internal_context": ("from-internal",),
}


def test_asterisk_uk_pbx_imports_every_inbound_call_with_its_options(uk_org):
    call_import = run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **UK_OPTIONS)
    assert call_import.errors == []
    assert (call_import.rows_imported, call_import.rows_skipped) == (5, 2)
    calls = calls_of(uk_org)
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "1784019900.1": ("answered", 180),
        "1784020200.3": ("answered", 95),
        "1784020500.5": ("missed", 0),
        "1784021400.11": ("answered", 120),  # the queue's Local legs log it twice
        "1784021700.13": ("answered", 30),
    }
    assert {call.campaign.name for call in calls.values()} == {"UK Leads"}


def test_asterisk_numbers_are_read_in_the_tenants_country_and_short_dids_are_kept(uk_org):
    run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **UK_OPTIONS)
    calls = calls_of(uk_org)
    assert (calls["1784019900.1"].caller_number, calls["1784019900.1"].dialed_number) == (
        "+447700900123",
        "+442079460958",
    )
    short_did = calls["1784020200.3"]
    assert (short_did.caller_number, short_did.dialed_number) == ("+447700900124", "946012")
    assert calls["1784020500.5"].caller_number == "+447700900125"
    assert calls["1784021400.11"].dialed_number == "946012"  # the DID, not extension 201
    assert calls["1784021700.13"].caller_number == ""  # anonymous


def test_asterisk_tracking_number_gives_the_campaign_of_a_uk_did(uk_org):
    tracking = TrackingNumberFactory(
        organization=uk_org,
        number="+442079460958",
        campaign=CampaignFactory(organization=uk_org, name="London Boilers"),
    )
    options = {**UK_OPTIONS, "campaign": ""}
    call_import = run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **options)
    calls = calls_of(uk_org)
    assert calls["1784019900.1"].tracking_number == tracking
    assert calls["1784019900.1"].campaign == tracking.campaign
    # A short DID is no tracking number: without --campaign its call has no campaign.
    unknown = next(e for e in call_import.errors if e["row"] == 2)
    assert "tracking number 946012 is not set up" in unknown["error"]


def test_asterisk_without_a_campaign_option_reports_the_calls_it_cannot_place(uk_org):
    options = {**UK_OPTIONS, "campaign": ""}
    call_import = run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **options)
    assert call_import.rows_imported == 0
    assert {e["column"] for e in call_import.errors} == {"dst"}


def test_asterisk_source_timezone_reads_the_pbx_clock(uk_org):
    run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **UK_OPTIONS)
    assert calls_of(uk_org)["1784019900.1"].started_at == utc(2026, 7, 14, 9, 5)
    Call.objects.all().delete()
    run_import(
        uk_org,
        "asterisk",
        sample="asterisk_Master_uk.csv",
        **{**UK_OPTIONS, "source_timezone": ""},
    )
    # Read in the tenant's zone instead: 09:05 in London (BST) is 08:05 UTC.
    assert calls_of(uk_org)["1784019900.1"].started_at == utc(2026, 7, 14, 8, 5)


def test_asterisk_internal_context_skips_calls_that_started_inside_the_pbx(uk_org):
    call_import = run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **UK_OPTIONS)
    assert call_import.rows_skipped == 2
    assert "1784020800.7" not in calls_of(uk_org)  # extension 201 to 202
    assert "1784021100.9" not in calls_of(uk_org)  # extension 201 calling out
    assert calls_of(uk_org)["1784021400.11"].tags == {"legs": 2}  # its Local leg stays
    options = {**UK_OPTIONS, "internal_context": ()}
    everything = run_import(uk_org, "asterisk", sample="asterisk_Master_uk.csv", **options)
    assert (everything.rows_imported, everything.rows_skipped) == (7, 0)


def test_asterisk_master_csv_in_cdr_custom_order_is_recognised(uk_org):
    call_import = run_import(
        uk_org, "asterisk", sample="asterisk_cdr_custom_Master.csv", campaign="UK Leads"
    )
    assert call_import.errors == []
    calls = calls_of(uk_org)
    assert {k: (c.status, c.duration_seconds) for k, c in calls.items()} == {
        "1784019900.1": ("answered", 180),
        "1784020200.3": ("answered", 95),
        "1784020500.5": ("missed", 0),
    }
    assert calls["1784020200.3"].dialed_number == "946012"


def test_asterisk_columns_option_reads_any_cdr_custom_mapping(uk_org):
    call_import = run_import_text(
        uk_org,
        "asterisk",
        '"2026-07-14 09:05:00","07700900123","02079460958","ANSWERED","180","9.1","PJSIP/201"\n',
        campaign="UK Leads",
        columns=("start", "src", "dst", "disposition", "billsec", "uniqueid", "dstchannel"),
    )
    assert call_import.errors == []
    call = calls_of(uk_org)["9.1"]
    assert (call.status, call.duration_seconds, call.dialed_number) == (
        "answered",
        180,
        "+442079460958",
    )


def test_asterisk_file_in_an_unknown_column_order_fails_saying_how_to_read_it(uk_org):
    call_import = run_import_text(
        uk_org,
        "asterisk",
        '"07700900123","02079460958","2026-07-14 09:05:00","ANSWERED","180","9.1","x","y",'
        '"a","b","c","d","e","f","g","h"\n',
        campaign="UK Leads",
    )
    assert call_import.status == ImportStatus.FAILED
    assert "row 1 of this Master.csv fits no known column order" in call_import.detail
    assert "--columns clid,src,dst,dcontext" in call_import.detail
    assert not Call.objects.exists()


# --- manage.py import_calls ----------------------------------------------------------------


def test_import_calls_command_prints_the_counts_and_first_row_errors(org):
    out = StringIO()
    call_command(
        "import_calls",
        str(SAMPLES / "ringba_call_log.csv"),
        org="acme",
        format="ringba",
        create_missing=True,
        stdout=out,
    )
    output = out.getvalue()
    assert "(ringba) for 'acme': done." in output
    assert "Read as UTF-8 with BOM, comma-separated." in output
    assert (
        "Rows read: 9; rows imported: 5, as 5 distinct calls (0 duplicate rows of a call "
        "earlier in the file); rows failed: 3; rows skipped" in output
    )
    assert "row 7, column callDt: 'yesterday' is not a date and time" in output
    assert "row 9, column conversionAmount:" in output
    assert Call.objects.for_organization(org).count() == 5


def test_import_calls_command_limits_the_errors_it_prints(org):
    out = StringIO()
    call_command(
        "import_calls",
        str(SAMPLES / "ringba_call_log.csv"),
        org="acme",
        format="ringba",
        create_missing=True,
        show_errors=1,
        stdout=out,
    )
    assert "row 8" not in out.getvalue()
    assert "... and 2 more. All of them: rerun with --errors-csv FILE, or download GET " in (
        out.getvalue()
    )
    # The API never "lists them" all: the CSV download has every error.
    assert "/errors.csv" in out.getvalue()


def test_import_calls_command_fails_when_the_import_fails(org):
    with pytest.raises(CommandError, match="not a ringba export"):
        call_command(
            "import_calls",
            str(SAMPLES / "callrail_calls.csv"),
            org="acme",
            format="ringba",
            stdout=StringIO(),
        )
    assert CallImport.objects.for_organization(org).get().status == ImportStatus.FAILED


def test_import_calls_command_refuses_an_unknown_organization_or_file(org, tmp_path):
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command(
            "import_calls", str(SAMPLES / "ringba_call_log.csv"), org="nope", format="ringba"
        )
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_calls", str(tmp_path / "missing.csv"), org="acme", format="ringba")


def test_import_calls_command_passes_its_options_to_the_import(org, tmp_path):
    CampaignFactory(organization=org, name="Solar Leads")
    export = tmp_path / "pbx.csv"
    export.write_text(
        "external_id,started_at,status,campaign_name\nN1,2026-07-14 09:05:00,missed,Other\n"
    )
    call_command(
        "import_calls",
        str(export),
        org="acme",
        format="native",
        campaign="Solar Leads",
        source_timezone="UTC",
        stdout=StringIO(),
    )
    call = calls_of(org)["N1"]
    assert (call.campaign.name, call.started_at) == ("Solar Leads", utc(2026, 7, 14, 9, 5))
    assert CallImport.objects.for_organization(org).get().options == {
        "campaign": "Solar Leads",
        "source_timezone": "UTC",
    }


@pytest.mark.parametrize(
    "options, message",
    [
        ({"source_timezone": "Mars/Olympus"}, "--source-timezone: 'Mars/Olympus' is not an IANA"),
        ({"campaign": "Nope"}, "--campaign: No campaign named 'Nope'"),
        ({"columns": "src,dst"}, "--columns: not an option of the ringba format"),
    ],
)
def test_import_calls_command_refuses_options_that_do_not_fit(org, options, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "import_calls",
            str(SAMPLES / "ringba_call_log.csv"),
            org="acme",
            format="ringba",
            stdout=StringIO(),
            **options,
        )
    assert not CallImport.objects.for_organization(org).exists()


def test_import_calls_command_takes_the_asterisk_options(uk_org):
    CampaignFactory(organization=uk_org, name="UK Leads")
    out = StringIO()
    call_command(
        "import_calls",
        str(SAMPLES / "asterisk_Master_uk.csv"),
        org="acme",
        format="asterisk",
        campaign="UK Leads",
        source_timezone="UTC",
        internal_context=["from-internal"],
        columns=",".join(CDR_CSV_COLUMNS),
        stdout=out,
    )
    assert (
        "as 5 distinct calls (0 duplicate rows of a call earlier in the file); rows failed: 0; "
        "rows skipped (not calls to import): 2." in out.getvalue()
    )
    assert CallImport.objects.for_organization(uk_org).get().options["internal_context"] == [
        "from-internal"
    ]


def test_import_calls_command_refuses_columns_that_cannot_be_read(org):
    with pytest.raises(CommandError, match="--columns: must name start, disposition"):
        call_command(
            "import_calls",
            str(SAMPLES / "asterisk_Master.csv"),
            org="acme",
            format="asterisk",
            columns="clid,src,dst",
            stdout=StringIO(),
        )
