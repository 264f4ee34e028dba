"""Settings pages: campaign thresholds, API keys, members and roles, weekly report, CSV import.

Owners and managers change settings; analysts and viewers read them (a POST is a 403 and the
forms are hidden). Another tenant's campaign, key, member or import is a 404.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from calls.models import Call, CallImport, ImportStatus
from kpis.models import DirtyDay, ReportSubscription
from kpis.rollups import rollups_rebuild
from ppc_dashboard.tenancy.forms import CallImportForm
from ppc_dashboard.tenancy.models import ApiKey, Membership, Role, hash_api_key
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import (
    BuyerFactory,
    CallFactory,
    CampaignFactory,
    MembershipFactory,
    PublisherFactory,
    UserFactory,
)

# The form of each page, as a marker that only the form renders.
PAGE_FORMS = {
    "/settings/api-keys/": "Create key",
    "/settings/members/": "Add member",
    "/settings/reports/": "Subscribe me",
    "/settings/imports/": "Upload and import",
}


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def owner_client(org, make_member_client):
    return make_member_client(org, Role.OWNER)


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, name="Auto leads", qualifying_seconds=90)


@pytest.fixture
def rival_campaign(other_org):
    return CampaignFactory(organization=other_org, name="Rival campaign")


# --- Access ----------------------------------------------------------------------------------


def test_settings_index_links_every_section(member_client):
    response = member_client.get("/settings/")
    assert response.status_code == 200
    for url in ["/settings/campaigns/", *PAGE_FORMS]:
        assert f'href="{url}"' in text(response)


def test_settings_need_a_login(db):
    response = Client().get("/settings/api-keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_settings_refuse_a_user_without_organization(db):
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/settings/").status_code == 403


@pytest.mark.parametrize("url,form_marker", PAGE_FORMS.items())
def test_manager_sees_the_form_of_each_settings_page(member_client, url, form_marker):
    response = member_client.get(url)
    assert response.status_code == 200
    assert form_marker in text(response)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
@pytest.mark.parametrize("url,form_marker", PAGE_FORMS.items())
def test_readers_see_settings_pages_without_forms(org, make_member_client, role, url, form_marker):
    client = make_member_client(org, role)
    response = client.get(url)
    assert response.status_code == 200
    assert form_marker not in text(response)
    assert "only owners and managers can change them" in text(response)


@pytest.mark.parametrize(
    "url",
    [
        "/settings/api-keys/",
        "/settings/members/",
        "/settings/reports/",
        "/settings/reports/unsubscribe/",
        "/settings/imports/",
    ],
)
def test_viewer_post_to_a_settings_page_is_403(viewer_client, url):
    assert viewer_client.post(url, {"name": "x", "email": "a@example.com"}).status_code == 403


# --- Campaign thresholds -------------------------------------------------------------------

GOOD_THRESHOLDS = {
    "qualifying_seconds": "120",
    "rpm_floor": "1.50",
    "duplicate_window_days": "30",
    "strong_conversion_pct": "20",
    "min_calls": "50",
}


@pytest.fixture
def settings_changes(monkeypatch):
    """Calls of campaign_settings_changed made by the settings form."""
    calls: list[dict] = []

    def record(campaign, **kwargs):
        calls.append({"campaign": campaign.pk, **kwargs})

    monkeypatch.setattr("ppc_dashboard.tenancy.forms.campaign_settings_changed", record)
    return calls


def test_campaign_list_shows_own_campaigns_only(member_client, campaign, rival_campaign):
    response = member_client.get("/settings/campaigns/")
    assert response.status_code == 200
    assert "Auto leads" in text(response)
    assert "Rival campaign" not in text(response)
    assert f'href="/settings/campaigns/{campaign.pk}/"' in text(response)


def test_campaign_form_shows_current_values_and_inherited_defaults(member_client, org, campaign):
    org.verdict_thresholds = {"missed_leak_pct": 8}
    org.save()
    campaign.verdict_thresholds = {"min_calls": 40}
    campaign.save()
    response = member_client.get(f"/settings/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert 'name="qualifying_seconds" value="90"' in page
    assert 'name="min_calls" value="40"' in page
    assert 'placeholder="8"' in page  # the tenant's missed_leak_pct
    assert 'placeholder="15"' in page  # the default strong_conversion_pct


def test_campaign_thresholds_save_and_recompute_history(member_client, campaign, settings_changes):
    response = member_client.post(f"/settings/campaigns/{campaign.pk}/", GOOD_THRESHOLDS)
    assert response.status_code == 302
    assert response["Location"] == "/settings/campaigns/"
    campaign.refresh_from_db()
    assert campaign.qualifying_seconds == 120
    assert campaign.rpm_floor == Decimal("1.50")
    assert campaign.verdict_thresholds == {"strong_conversion_pct": 20.0, "min_calls": 50}
    assert settings_changes == [
        {"campaign": campaign.pk, "qualifying_changed": True, "duplicate_window_changed": False}
    ]


def test_duplicate_window_change_recomputes_repeat_flags(member_client, campaign, settings_changes):
    data = {**GOOD_THRESHOLDS, "qualifying_seconds": "90", "duplicate_window_days": "7"}
    assert member_client.post(f"/settings/campaigns/{campaign.pk}/", data).status_code == 302
    assert settings_changes == [
        {"campaign": campaign.pk, "qualifying_changed": False, "duplicate_window_changed": True}
    ]


def test_rpm_floor_change_alone_recomputes_nothing(member_client, campaign, settings_changes):
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "rpm_floor": "2"}
    assert member_client.post(f"/settings/campaigns/{campaign.pk}/", data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.rpm_floor == Decimal("2")
    assert settings_changes == []


def test_campaign_threshold_change_really_marks_history(member_client, org, campaign):
    # Unmocked: the real campaign_settings_changed marks the campaign's days for recompute.
    call = CallFactory(organization=org, campaign=campaign)
    rollups_rebuild(org)
    assert not DirtyDay.objects.for_organization(org).exists()
    data = {**GOOD_THRESHOLDS, "duplicate_window_days": "3"}
    assert member_client.post(f"/settings/campaigns/{campaign.pk}/", data).status_code == 302
    call_day = call.started_at.astimezone(org.tzinfo).date()
    assert DirtyDay.objects.for_organization(org).filter(day=call_day).exists()


def test_blank_threshold_fields_clear_the_overrides(member_client, campaign):
    campaign.verdict_thresholds = {"min_calls": 40}
    campaign.save()
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "min_calls": ""}
    assert member_client.post(f"/settings/campaigns/{campaign.pk}/", data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.verdict_thresholds == {}


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("qualifying_seconds", "-1", "greater than or equal to 0"),
        ("qualifying_seconds", "", "This field is required"),
        ("rpm_floor", "-0.5", "greater than or equal to 0"),
        ("duplicate_window_days", "soon", "Enter a whole number"),
        ("strong_conversion_pct", "150", "less than or equal to 100"),
        ("min_calls", "0", "greater than or equal to 1"),
        ("other_benchmark_seconds", "1.5", "Enter a whole number"),
        ("weak_conversion_pct", "30", "must not exceed strong_conversion_pct"),
    ],
)
def test_campaign_thresholds_errors_are_shown_on_their_field(
    member_client, campaign, settings_changes, field, value, message
):
    response = member_client.post(
        f"/settings/campaigns/{campaign.pk}/", {**GOOD_THRESHOLDS, field: value}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message in text(response)
    campaign.refresh_from_db()
    assert (campaign.qualifying_seconds, campaign.verdict_thresholds) == (90, {})
    assert settings_changes == []


def test_campaign_overrides_are_checked_against_the_tenants(member_client, org, campaign):
    org.verdict_thresholds = {"strong_conversion_pct": 8}
    org.save()
    data = {"qualifying_seconds": "90", "duplicate_window_days": "30", "weak_conversion_pct": "9"}
    response = member_client.post(f"/settings/campaigns/{campaign.pk}/", data)
    assert response.status_code == 200
    assert "must not exceed" in " ".join(response.context["form"].errors["weak_conversion_pct"])


def test_viewer_sees_campaign_thresholds_read_only(viewer_client, campaign):
    response = viewer_client.get(f"/settings/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    assert 'name="qualifying_seconds"' not in text(response)
    assert "Qualifying seconds" in text(response)


def test_viewer_cannot_change_campaign_thresholds(viewer_client, campaign):
    response = viewer_client.post(f"/settings/campaigns/{campaign.pk}/", GOOD_THRESHOLDS)
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.qualifying_seconds == 90


def test_other_tenants_campaign_is_404(member_client, rival_campaign):
    url = f"/settings/campaigns/{rival_campaign.pk}/"
    assert member_client.get(url).status_code == 404
    assert member_client.post(url, GOOD_THRESHOLDS).status_code == 404
    rival_campaign.refresh_from_db()
    assert rival_campaign.qualifying_seconds == 90


# --- API keys ------------------------------------------------------------------------------


def test_api_key_list_shows_name_prefix_and_state(member_client, org, other_org):
    api_key, raw_key = api_key_create(organization=org, name="Ringba webhook")
    revoked, _ = api_key_create(organization=org, name="old importer")
    revoked.revoke()
    api_key_create(organization=other_org, name="rival key")
    response = member_client.get("/settings/api-keys/")
    page = text(response)
    assert "Ringba webhook" in page and "old importer" in page
    assert f"ppc_{api_key.prefix}_" in page
    assert raw_key not in page and api_key.key_hash not in page
    assert "rival key" not in page
    assert f"/settings/api-keys/{api_key.pk}/revoke/" in page
    assert f"/settings/api-keys/{revoked.pk}/revoke/" not in page


def test_created_api_key_is_shown_once_and_stored_hashed(member_client, org):
    response = member_client.post("/settings/api-keys/", {"name": "nightly import"})
    assert response.status_code == 200
    raw_key = response.context["raw_key"]
    assert raw_key in text(response)
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.for_organization(org).get(name="nightly import")
    assert api_key.key_hash == hash_api_key(raw_key)
    assert api_key.created_by == member_client.user
    for value in ApiKey.objects.filter(pk=api_key.pk).values().get().values():
        assert raw_key not in str(value)
    assert raw_key not in text(member_client.get("/settings/api-keys/"))
    # The key works.
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=raw_key)
    assert api.get("/api/v1/campaigns/").status_code == 200


def test_api_key_needs_a_name(member_client, org):
    response = member_client.post("/settings/api-keys/", {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert not ApiKey.objects.for_organization(org).exists()


def test_revoke_asks_then_refuses_the_key(member_client, org):
    api_key, raw_key = api_key_create(organization=org, name="leaked")
    url = f"/settings/api-keys/{api_key.pk}/revoke/"
    confirm = member_client.get(url)
    assert confirm.status_code == 200
    assert "Revoke the key" in text(confirm)
    api_key.refresh_from_db()
    assert api_key.revoked_at is None  # a GET changes nothing

    response = member_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/settings/api-keys/"
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=raw_key)
    assert api.get("/api/v1/campaigns/").status_code in (401, 403)


def test_revoking_twice_keeps_the_first_date(member_client, org):
    api_key, _ = api_key_create(organization=org, name="leaked")
    api_key.revoke()
    first = api_key.revoked_at
    assert member_client.post(f"/settings/api-keys/{api_key.pk}/revoke/").status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at == first


def test_viewer_cannot_create_or_revoke_keys(viewer_client, org):
    api_key, _ = api_key_create(organization=org, name="kept")
    assert viewer_client.post("/settings/api-keys/", {"name": "mine"}).status_code == 403
    url = f"/settings/api-keys/{api_key.pk}/revoke/"
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url).status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    assert ApiKey.objects.for_organization(org).count() == 1


def test_other_tenants_key_is_404(member_client, other_org):
    api_key, _ = api_key_create(organization=other_org, name="rival key")
    url = f"/settings/api-keys/{api_key.pk}/revoke/"
    assert member_client.get(url).status_code == 404
    assert member_client.post(url).status_code == 404
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


# --- Members and roles ---------------------------------------------------------------------


def member_page_urls(membership: Membership) -> list[str]:
    """The role-change and removal pages of a membership."""
    return [f"/settings/members/{membership.pk}/", f"/settings/members/{membership.pk}/remove/"]


def test_member_list_shows_own_members_only(member_client, org, other_org):
    MembershipFactory(organization=org, user=UserFactory(email="ana@acme.test"), role="analyst")
    MembershipFactory(organization=other_org, user=UserFactory(email="spy@rival.test"))
    page = text(member_client.get("/settings/members/"))
    assert "ana@acme.test" in page and "Analyst" in page
    assert member_client.user.email in page
    assert "spy@rival.test" not in page


def test_adding_a_new_person_shows_their_password_once(member_client, org):
    response = member_client.post(
        "/settings/members/", {"email": "New.Buyer@Acme.test", "role": "analyst"}
    )
    assert response.status_code == 200
    password = response.context["password"]
    assert password in text(response)
    assert "no-store" in response["Cache-Control"]
    membership = Membership.objects.for_organization(org).get(user__email="new.buyer@acme.test")
    assert membership.role == Role.ANALYST
    assert password not in text(member_client.get("/settings/members/"))
    assert Client().login(username="new.buyer@acme.test", password=password)


def test_adding_an_existing_user_makes_no_password(member_client, org, other_org):
    user = UserFactory(email="known@rival.test")
    MembershipFactory(organization=other_org, user=user)
    response = member_client.post(
        "/settings/members/", {"email": "known@rival.test", "role": "viewer"}
    )
    assert response.status_code == 302
    assert Membership.objects.for_organization(org).get(user=user).role == Role.VIEWER
    assert Membership.objects.for_organization(other_org).get(user=user).role == Role.MANAGER
    user.refresh_from_db()
    assert user.check_password("pw-for-tests-123")


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"email": "not-an-email", "role": "viewer"}, "email", "valid email"),
        ({"email": "x@acme.test", "role": "boss"}, "role", "Select a valid choice"),
        # A manager cannot make an owner.
        ({"email": "x@acme.test", "role": "owner"}, "role", "Select a valid choice"),
    ],
)
def test_add_member_errors_are_shown_on_their_field(member_client, data, field, message):
    response = member_client.post("/settings/members/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not get_user_model().objects.filter(email="x@acme.test").exists()


def test_adding_a_member_twice_is_refused(member_client, org):
    MembershipFactory(organization=org, user=UserFactory(email="ana@acme.test"), role="analyst")
    response = member_client.post(
        "/settings/members/", {"email": "ANA@acme.test", "role": "manager"}
    )
    assert response.status_code == 200
    assert "already a member" in " ".join(response.context["form"].errors["email"])
    assert (
        Membership.objects.for_organization(org).get(user__email="ana@acme.test").role == "analyst"
    )


def test_owner_can_add_an_owner(owner_client, org):
    response = owner_client.post("/settings/members/", {"email": "co@acme.test", "role": "owner"})
    assert response.status_code == 200
    assert Membership.objects.for_organization(org).get(user__email="co@acme.test").role == "owner"


def test_manager_changes_a_role(member_client, org):
    membership = MembershipFactory(organization=org, role=Role.VIEWER)
    url = f"/settings/members/{membership.pk}/"
    assert member_client.get(url).status_code == 200
    response = member_client.post(url, {"role": "analyst"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ANALYST


def test_role_change_needs_a_valid_role(member_client, org):
    membership = MembershipFactory(organization=org, role=Role.VIEWER)
    response = member_client.post(f"/settings/members/{membership.pk}/", {"role": "king"})
    assert response.status_code == 200
    assert "Select a valid choice" in " ".join(response.context["form"].errors["role"])


def test_last_owner_cannot_be_demoted(owner_client, org):
    mine = Membership.objects.get(organization=org, user=owner_client.user)
    response = owner_client.post(f"/settings/members/{mine.pk}/", {"role": "manager"})
    assert response.status_code == 200
    assert "last owner" in text(response)
    mine.refresh_from_db()
    assert mine.role == Role.OWNER


def test_last_owner_cannot_be_removed(owner_client, org):
    mine = Membership.objects.get(organization=org, user=owner_client.user)
    response = owner_client.post(f"/settings/members/{mine.pk}/remove/")
    assert response.status_code == 200
    assert "last owner" in text(response)
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_an_owner_can_step_down_when_another_owner_remains(owner_client, org):
    MembershipFactory(organization=org, role=Role.OWNER)
    mine = Membership.objects.get(organization=org, user=owner_client.user)
    response = owner_client.post(f"/settings/members/{mine.pk}/", {"role": "manager"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.role == Role.MANAGER


def test_manager_cannot_change_or_remove_an_owner(member_client, org):
    owner = MembershipFactory(organization=org, role=Role.OWNER)
    MembershipFactory(organization=org, role=Role.OWNER)  # not the last one
    page = text(member_client.get(f"/settings/members/{owner.pk}/"))
    assert "only an owner can change their role" in page
    response = member_client.post(f"/settings/members/{owner.pk}/", {"role": "viewer"})
    assert response.status_code == 200
    assert response.context["form"].errors["role"] == [
        "Only an owner can change or remove an owner."
    ]
    response = member_client.post(f"/settings/members/{owner.pk}/remove/")
    assert response.status_code == 200
    assert "Only an owner can change or remove an owner." in text(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_only_owners_see_the_links_to_change_an_owner(member_client, owner_client, org):
    owner = MembershipFactory(organization=org, role=Role.OWNER)
    analyst = MembershipFactory(organization=org, role=Role.ANALYST)
    manager_page = text(member_client.get("/settings/members/"))
    owner_page = text(owner_client.get("/settings/members/"))
    for url in member_page_urls(analyst):
        assert f'href="{url}"' in manager_page and f'href="{url}"' in owner_page
    for url in member_page_urls(owner):
        assert f'href="{url}"' not in manager_page
        assert f'href="{url}"' in owner_page


def test_removing_a_member_keeps_their_account(member_client, org):
    membership = MembershipFactory(organization=org, role=Role.ANALYST)
    url = f"/settings/members/{membership.pk}/remove/"
    assert "Remove" in text(member_client.get(url))
    response = member_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/settings/members/"
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(pk=membership.user_id).exists()


def test_viewer_cannot_manage_members(viewer_client, org):
    membership = MembershipFactory(organization=org, role=Role.ANALYST)
    response = viewer_client.post("/settings/members/", {"email": "x@acme.test", "role": "owner"})
    assert response.status_code == 403
    for url in member_page_urls(membership):
        assert viewer_client.get(url).status_code == 403
        assert viewer_client.post(url, {"role": "owner"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.ANALYST
    assert not get_user_model().objects.filter(email="x@acme.test").exists()


def test_other_tenants_member_is_404(owner_client, other_org):
    membership = MembershipFactory(organization=other_org, role=Role.VIEWER)
    for url in member_page_urls(membership):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url, {"role": "owner"}).status_code == 404
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


# --- Weekly report subscriptions -----------------------------------------------------------


def test_manager_subscribes_to_the_weekly_report(member_client, org):
    response = member_client.post("/settings/reports/", {"filters": ""})
    assert response.status_code == 302
    subscription = ReportSubscription.objects.for_organization(org).get(user=member_client.user)
    assert subscription.filters == ""
    assert "You are subscribed" in text(member_client.get("/settings/reports/"))


def test_subscription_keeps_the_report_filters_only(member_client, org):
    campaign = CampaignFactory(organization=org)
    publisher = PublisherFactory(organization=org)
    data = {"filters": f"?range=7&campaign={campaign.pk}&publisher={publisher.pk}&vertical=legal"}
    assert member_client.post("/settings/reports/", data).status_code == 302
    subscription = ReportSubscription.objects.for_organization(org).get()
    assert subscription.filters == f"campaign={campaign.pk}&publisher={publisher.pk}&vertical=legal"


def test_report_page_starts_with_the_pages_filters(member_client, org):
    buyer = BuyerFactory(organization=org)
    response = member_client.get(f"/settings/reports/?range=30&buyer={buyer.pk}")
    assert response.context["form"].initial["filters"] == f"buyer={buyer.pk}"


@pytest.mark.parametrize(
    "filters,message",
    [
        ("campaign=abc", "'abc' is not an id."),
        ("vertical=space", "'space' is not a vertical."),
        ("campaign=999999", "There is no campaign with id 999999."),
    ],
)
def test_bad_report_filters_are_shown(member_client, org, filters, message):
    response = member_client.post("/settings/reports/", {"filters": filters})
    assert response.status_code == 200
    assert message in response.context["form"].errors["filters"]
    assert not ReportSubscription.objects.for_organization(org).exists()


def test_report_filters_cannot_name_another_tenants_campaign(member_client, org, rival_campaign):
    response = member_client.post(
        "/settings/reports/", {"filters": f"campaign={rival_campaign.pk}"}
    )
    assert response.status_code == 200
    assert not ReportSubscription.objects.exists()


def test_resubscribing_updates_the_filters_and_keeps_the_sent_week(member_client, org):
    campaign = CampaignFactory(organization=org)
    ReportSubscription.objects.create(
        organization=org, user=member_client.user, last_sent_week="2026-11-02"
    )
    data = {"filters": f"campaign={campaign.pk}"}
    assert member_client.post("/settings/reports/", data).status_code == 302
    subscription = ReportSubscription.objects.get()
    assert subscription.filters == f"campaign={campaign.pk}"
    assert str(subscription.last_sent_week) == "2026-11-02"


def test_unsubscribe_removes_only_my_subscription(member_client, org):
    colleague = MembershipFactory(organization=org)
    ReportSubscription.objects.create(organization=org, user=member_client.user)
    ReportSubscription.objects.create(organization=org, user=colleague.user)
    response = member_client.post("/settings/reports/unsubscribe/")
    assert response.status_code == 302
    assert list(ReportSubscription.objects.values_list("user", flat=True)) == [colleague.user_id]
    assert member_client.get("/settings/reports/unsubscribe/").status_code == 405


def test_managers_see_the_subscribers_of_their_organization(member_client, org, other_org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="boss@acme.test"))
    ReportSubscription.objects.create(organization=org, user=colleague.user, filters="campaign=1")
    rival = MembershipFactory(organization=other_org, user=UserFactory(email="spy@rival.test"))
    ReportSubscription.objects.create(organization=other_org, user=rival.user)
    page = text(member_client.get("/settings/reports/"))
    assert "boss@acme.test" in page and "campaign=1" in page
    assert "spy@rival.test" not in page


def test_viewer_neither_subscribes_nor_sees_the_subscribers(viewer_client, org):
    colleague = MembershipFactory(organization=org, user=UserFactory(email="boss@acme.test"))
    ReportSubscription.objects.create(organization=org, user=colleague.user)
    response = viewer_client.get("/settings/reports/")
    assert response.status_code == 200
    assert "boss@acme.test" not in text(response)
    assert viewer_client.post("/settings/reports/", {"filters": ""}).status_code == 403
    assert not ReportSubscription.objects.filter(user=viewer_client.user).exists()


# --- CSV import ----------------------------------------------------------------------------

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
    assert f"/api/v1/imports/{call_import.pk}" in page
    assert "fetch(" in page
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
