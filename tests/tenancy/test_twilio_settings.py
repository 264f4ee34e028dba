"""Settings, Twilio: the URLs a tenant gives its Twilio numbers, and the auth token Twilio's
requests are verified with, set by owners and managers from the browser (it was the admin's
alone), never shown again."""

from __future__ import annotations

import pytest

from ppc_dashboard.tenancy.models import Organization, Role
from tests.twilio_callbacks import completed_params, post_signed

URL = "/settings/twilio/"
TOKEN = "0123456789abcdef0123456789abcdef"  # the shape of a Twilio auth token


def test_the_page_gives_both_urls_and_says_the_token_is_missing(org, member_client):
    org.twilio_auth_token = ""
    org.save()
    page = member_client.get(URL).content.decode()
    assert f"http://testserver/hooks/twilio/{org.webhook_token}/" in page
    assert f"http://testserver/hooks/twilio/{org.webhook_token}/voice" in page
    assert "Not set: every request from Twilio is refused" in page


def test_a_manager_sets_the_token_and_twilios_signed_callbacks_are_taken(
    org, member_client, client
):
    org.twilio_auth_token = ""
    org.save()
    assert (
        post_signed(client, org.webhook_token, completed_params(), token=TOKEN).status_code == 403
    )
    response = member_client.post(URL, {"auth_token": f"  {TOKEN}  "})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.twilio_auth_token == TOKEN
    assert (
        post_signed(client, org.webhook_token, completed_params(), token=TOKEN).status_code == 204
    )
    # Shown again only by its last characters.
    page = member_client.get(URL).content.decode()
    assert TOKEN not in page
    assert "…cdef" in page


@pytest.mark.parametrize(
    "token", ["", "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", TOKEN[:-1], f"{TOKEN}0", "g" * 32]
)
def test_what_is_no_auth_token_is_refused_and_the_old_one_kept(org, member_client, token):
    response = member_client.post(URL, {"auth_token": token})
    assert response.status_code == 200
    assert response.context["form"].errors["auth_token"]
    org.refresh_from_db()
    assert org.twilio_auth_token == "twilio-test-auth-token"  # the factory's, unchanged


def test_removing_the_token_refuses_twilio_again(org, member_client, client):
    member_client.post(URL, {"auth_token": TOKEN})
    assert member_client.post(URL, {"remove": "1"}).status_code == 302
    org.refresh_from_db()
    assert org.twilio_auth_token == ""
    assert (
        post_signed(client, org.webhook_token, completed_params(), token=TOKEN).status_code == 403
    )


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_readers_see_the_urls_but_cannot_change_the_token(org, make_member_client, role):
    reader = make_member_client(org, role)
    page = reader.get(URL)
    assert page.status_code == 200
    assert 'name="auth_token"' not in page.content.decode()
    assert reader.post(URL, {"auth_token": TOKEN}).status_code == 403
    assert reader.post(URL, {"remove": "1"}).status_code == 403
    org.refresh_from_db()
    assert org.twilio_auth_token == "twilio-test-auth-token"


def test_a_token_is_set_for_the_members_own_organization_only(org, other_org, member_client):
    member_client.post(URL, {"auth_token": TOKEN})
    assert Organization.objects.get(pk=other_org.pk).twilio_auth_token != TOKEN
    page = member_client.get(URL).content.decode()
    assert other_org.webhook_token not in page
