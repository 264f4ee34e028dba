"""Settings pages: the access rule of every settings page; API keys, members and roles.

Owners and managers change settings; analysts and viewers read them (a POST is a 403 and the
forms are hidden). Another tenant's key or member is a 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from ppc_dashboard.tenancy.models import ApiKey, Invitation, Membership, Role, hash_api_key
from ppc_dashboard.tenancy.services import api_key_create
from tests.factories import (
    MembershipFactory,
    UserFactory,
)

# The form of each page, as a marker that only the form renders.
PAGE_FORMS = {
    "/settings/api-keys/": "Create key",
    "/settings/members/": "Send invitation",
    "/settings/reports/": '<button type="submit">Subscribe</button>',
    "/settings/imports/": "Upload and import",
}


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def owner_client(org, make_member_client):
    return make_member_client(org, Role.OWNER)


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


def test_api_key_times_are_shown_in_the_tenants_zone(member_client, org):
    # Every tenant page renders in the tenant's zone (TenantPageMixin), not only the call log.
    api_key, _ = api_key_create(organization=org, name="Ringba webhook")
    ApiKey.objects.filter(pk=api_key.pk).update(
        created_at=dt.datetime(2026, 11, 2, 15, 4, tzinfo=dt.UTC)
    )
    page = text(member_client.get("/settings/api-keys/"))
    assert "2026-11-02 10:04" in page  # America/New_York
    assert "15:04" not in page


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


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"email": "not-an-email", "role": "viewer"}, "email", "valid email"),
        ({"email": "x@acme.test", "role": "boss"}, "role", "Select a valid choice"),
        # A manager cannot make an owner.
        ({"email": "x@acme.test", "role": "owner"}, "role", "Select a valid choice"),
    ],
)
def test_invitation_errors_are_shown_on_their_field(member_client, data, field, message):
    response = member_client.post("/settings/members/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Invitation.objects.exists()


def test_inviting_a_member_is_refused(member_client, org):
    MembershipFactory(organization=org, user=UserFactory(email="ana@acme.test"), role="analyst")
    response = member_client.post(
        "/settings/members/", {"email": "ANA@acme.test", "role": "manager"}
    )
    assert response.status_code == 200
    assert "already a member" in " ".join(response.context["form"].errors["email"])
    assert not Invitation.objects.exists()


def test_owner_can_invite_an_owner(owner_client, org):
    response = owner_client.post("/settings/members/", {"email": "co@acme.test", "role": "owner"})
    assert response.status_code == 302
    assert Invitation.objects.for_organization(org).get(email="co@acme.test").role == "owner"


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
    assert not Invitation.objects.exists()


def test_other_tenants_member_is_404(owner_client, other_org):
    membership = MembershipFactory(organization=other_org, role=Role.VIEWER)
    for url in member_page_urls(membership):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url, {"role": "owner"}).status_code == 404
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
