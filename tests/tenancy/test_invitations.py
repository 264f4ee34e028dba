"""Invitations: people join an organization by accepting an emailed, expiring, single-use link.

A manager names an address and a role; nobody becomes a member until the invitee accepts,
logged in as that address or with a new account for it. The members page says the same
whether or not the address has an account.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from ppc_dashboard.tenancy.models import Invitation, Membership, Role, hash_secret
from ppc_dashboard.tenancy.throttling import CredentialFailureThrottle
from tests.conftest import TEST_PASSWORD
from tests.factories import MembershipFactory, UserFactory

NEW_PASSWORD = "a-new-long-pass-4821"


def text(response) -> str:
    return response.content.decode()


def invite(client, email: str, role: str = "analyst"):
    return client.post("/settings/members/", {"email": email, "role": role}, follow=True)


def link_in(mail) -> str:
    return re.search(r"https?://[^/\s]+(/invitations/[\w-]+/)", mail.body).group(1)


@pytest.fixture
def owner_client(org, make_member_client):
    return make_member_client(org, Role.OWNER)


@pytest.fixture
def rival_user(other_org):
    user = UserFactory(username="known@rival.test", email="known@rival.test")
    MembershipFactory(organization=other_org, user=user, role=Role.MANAGER)
    return user


def log_in(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def current_organization(client: Client):
    return client.get("/settings/").context["current_organization"]


# --- Inviting ------------------------------------------------------------------------------


def test_inviting_another_tenant_s_user_makes_them_no_member(member_client, org, rival_user):
    invite(member_client, "known@rival.test", role="viewer")
    assert not Membership.objects.for_organization(org).filter(user=rival_user).exists()
    # Their next login lands where they belong, not in the tenant that named their address.
    client = Client()
    log_in(client, rival_user.username)
    assert current_organization(client).slug == "rival"


def test_the_page_says_the_same_whether_or_not_the_address_has_an_account(
    member_client, rival_user, mailoutbox
):
    known = invite(member_client, "known@rival.test")
    unknown = invite(member_client, "nobody@rival.test")
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [("/settings/members/", 302)]

    def page_of(response, email):
        # The page lists both invitations once the second is sent: look at the message.
        (message,) = [str(m) for m in response.context["messages"]]
        return message.replace(email, "EMAIL")

    assert page_of(known, "known@rival.test") == page_of(unknown, "nobody@rival.test")
    assert get_user_model().objects.filter(email="nobody@rival.test").count() == 0
    first, second = mailoutbox
    assert first.subject == second.subject
    assert first.body.replace(link_in(first), "LINK") == second.body.replace(
        link_in(second), "LINK"
    )


def test_the_invitation_is_emailed_and_only_its_hash_is_stored(member_client, org, mailoutbox):
    response = invite(member_client, "New.Buyer@Acme.test", role="analyst")
    assert "Invitation sent to new.buyer@acme.test as Analyst." in text(response)
    (mail,) = mailoutbox
    assert mail.to == ["new.buyer@acme.test"]
    assert "Acme Calls" in mail.subject
    assert "as Analyst" in mail.body
    token = link_in(mail).split("/")[2]
    invitation = Invitation.objects.for_organization(org).get(email="new.buyer@acme.test")
    assert invitation.token_hash == hash_secret(token)
    for value in Invitation.objects.filter(pk=invitation.pk).values().get().values():
        assert token not in str(value)
    assert token not in text(member_client.get("/settings/members/"))
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime - dt.timedelta(days=7)) < dt.timedelta(seconds=1)


def test_the_members_page_lists_the_tenant_s_pending_invitations(member_client, other_org):
    invite(member_client, "pending@acme.test")
    rival_manager = Client()
    rival_manager.force_login(MembershipFactory(organization=other_org, role=Role.MANAGER).user)
    invite(rival_manager, "theirs@rival.test")
    page = text(member_client.get("/settings/members/"))
    assert "pending@acme.test" in page
    assert "theirs@rival.test" not in page


def test_inviting_again_replaces_the_earlier_link(member_client, org, mailoutbox):
    invite(member_client, "twice@acme.test", role="viewer")
    invite(member_client, "twice@acme.test", role="analyst")
    first, second = (link_in(mail) for mail in mailoutbox)
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    pending = Invitation.objects.for_organization(org).filter(revoked_at__isnull=True)
    assert [invitation.role for invitation in pending] == [Role.ANALYST]


# --- Accepting -----------------------------------------------------------------------------


def test_a_new_person_accepts_by_choosing_a_password(member_client, org, mailoutbox):
    invite(member_client, "new@acme.test", role="analyst")
    link = link_in(mailoutbox[0])
    invitee = Client()
    page = text(invitee.get(link))
    assert "Choose a password" in page and "new@acme.test" in page
    response = invitee.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    membership = Membership.objects.for_organization(org).get(user__email="new@acme.test")
    assert membership.role == Role.ANALYST
    assert current_organization(invitee) == org
    assert log_in(Client(), "new@acme.test", NEW_PASSWORD).status_code == 302


def test_the_new_password_must_be_confirmed_and_strong(member_client, org, mailoutbox):
    invite(member_client, "new@acme.test")
    link = link_in(mailoutbox[0])
    differ = Client().post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 400
    assert differ.context["form"].errors["password2"] == ["The two passwords differ."]
    weak = Client().post(link, {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 400
    assert "too common" in " ".join(weak.context["form"].errors["password1"])
    assert not get_user_model().objects.filter(email="new@acme.test").exists()


def test_an_existing_user_logs_in_then_accepts(member_client, org, rival_user, mailoutbox):
    invite(member_client, "known@rival.test", role="viewer")
    link = link_in(mailoutbox[0])
    invitee = Client()
    page = text(invitee.get(link))
    assert f'href="/login/?next={link}"' in page
    assert "Choose a password" not in page
    response = invitee.post(
        f"/login/?next={link}",
        {"username": "known@rival.test", "password": TEST_PASSWORD, "next": link},
    )
    assert response["Location"] == link
    assert "Join Acme Calls" in text(invitee.get(link))
    assert invitee.post(link)["Location"] == "/"
    assert Membership.objects.for_organization(org).get(user=rival_user).role == Role.VIEWER
    assert current_organization(invitee) == org


def test_someone_else_logged_in_cannot_accept(member_client, org, rival_user, mailoutbox):
    invite(member_client, "invited@acme.test")
    link = link_in(mailoutbox[0])
    other = Client()
    other.force_login(rival_user)
    assert "this invitation is for invited@acme.test" in text(other.get(link))
    assert other.post(link).status_code == 403
    assert not Membership.objects.for_organization(org).filter(user=rival_user).exists()


def test_a_link_works_once(member_client, org, mailoutbox):
    invite(member_client, "once@acme.test")
    link = link_in(mailoutbox[0])
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert Client().post(link, data).status_code == 302
    again = Client().post(link, data)
    assert again.status_code == 404
    assert "does not work" in text(again)
    assert Membership.objects.for_organization(org).filter(user__email="once@acme.test").count()


def test_an_expired_link_does_not_work(member_client, org, mailoutbox):
    invite(member_client, "late@acme.test")
    link = link_in(mailoutbox[0])
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get(link).status_code == 404
    Client().post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert not get_user_model().objects.filter(email="late@acme.test").exists()


def test_guessed_invitation_links_are_answered_429(db, monkeypatch):
    monkeypatch.setattr(
        CredentialFailureThrottle, "THROTTLE_RATES", {"credential_failures": "3/min"}
    )
    client = Client()
    for n in range(3):
        assert client.get(f"/invitations/guess-{n}/").status_code == 404
    response = client.get("/invitations/one-more/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


# --- Revoking ------------------------------------------------------------------------------


def revoke_url(email: str) -> str:
    return f"/settings/members/invitations/{Invitation.objects.get(email=email).pk}/revoke/"


def test_a_revoked_link_does_not_work(member_client, mailoutbox):
    invite(member_client, "gone@acme.test")
    response = member_client.post(revoke_url("gone@acme.test"), follow=True)
    assert "Revoked the invitation of gone@acme.test." in text(response)
    assert "gone@acme.test</td>" not in text(response)
    assert Client().get(link_in(mailoutbox[0])).status_code == 404


def test_only_an_owner_revokes_the_invitation_of_an_owner(owner_client, member_client):
    invite(owner_client, "co-owner@acme.test", role="owner")
    url = revoke_url("co-owner@acme.test")
    assert f'action="{url}"' not in text(member_client.get("/settings/members/"))
    assert member_client.post(url).status_code == 403
    assert owner_client.post(url).status_code == 302


def test_readers_and_other_tenants_cannot_revoke(member_client, viewer_client, other_org):
    invite(member_client, "kept@acme.test")
    url = revoke_url("kept@acme.test")
    assert viewer_client.post(url).status_code == 403
    rival_owner = Client()
    rival_owner.force_login(MembershipFactory(organization=other_org, role=Role.OWNER).user)
    assert rival_owner.post(url).status_code == 404
    assert Invitation.objects.get(email="kept@acme.test").revoked_at is None


def test_a_mail_server_that_cannot_be_reached_gets_a_503_page_and_no_invitation(
    member_client, org, settings
):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    response = member_client.post(
        "/settings/members/", {"email": "new@acme.test", "role": "analyst"}
    )
    assert response.status_code == 503
    assert "The invitation email could not be sent" in text(response)
    assert not Invitation.objects.for_organization(org).exists()
