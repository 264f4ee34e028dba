"""Guessing passwords: failed logins lock the account and the address out for a cool-off.

LOGIN_FAILURE_LIMIT failures (5) against one account, from any addresses, or from one address,
against any accounts, and even the right password is refused with 429 until
LOGIN_LOCKOUT_MINUTES (15) have passed since the last failure. A login clears the failures of
its own account. The admin's login is the same.
"""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client

from ppc_dashboard.tenancy.models import Role
from tests.conftest import TEST_PASSWORD
from tests.factories import MembershipFactory, UserFactory

LIMIT = 5


@pytest.fixture
def member(org):
    user = UserFactory(username="ann@example.com", email="ann@example.com")
    MembershipFactory(organization=org, user=user, role=Role.ANALYST)
    return user


def log_in(client: Client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client: Client) -> bool:
    return client.get("/calls/").status_code == 200


def test_forty_wrong_passwords_then_the_right_one_is_refused(client, member):
    for _ in range(40):
        log_in(client, member.username, "wrong")
    response = log_in(client, member.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    assert not logged_in(client)


def test_failures_below_the_limit_leave_the_right_password_working(client, member):
    for _ in range(LIMIT - 1):
        assert log_in(client, member.username, "wrong").status_code == 200
    assert log_in(client, member.username, TEST_PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_account_is_locked_whatever_addresses_the_guesses_come_from(member):
    for n in range(LIMIT):
        log_in(Client(), member.username, "wrong", address=f"10.0.0.{n}")
    client = Client()
    assert log_in(client, member.username, TEST_PASSWORD, address="10.9.9.9").status_code == 429
    assert not logged_in(client)


def test_an_address_is_locked_whatever_accounts_it_guesses(member):
    for n in range(LIMIT):
        log_in(Client(), f"someone{n}@example.com", "wrong", address="10.6.6.6")
    locked = Client()
    assert log_in(locked, member.username, TEST_PASSWORD, address="10.6.6.6").status_code == 429
    assert not logged_in(locked)
    # The account itself is not locked: from elsewhere its owner logs in.
    elsewhere = Client()
    assert log_in(elsewhere, member.username, TEST_PASSWORD, address="10.7.7.7").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, member):
    for _ in range(LIMIT):
        log_in(client, member.username, "wrong")
    assert log_in(client, member.username, TEST_PASSWORD).status_code == 429
    last_failure = AccessAttempt.objects.get().attempt_time
    AccessAttempt.objects.update(attempt_time=last_failure - dt.timedelta(minutes=15, seconds=1))
    assert log_in(client, member.username, TEST_PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_login_clears_the_failures_of_its_account(client, member):
    for _ in range(2):
        for _ in range(LIMIT - 1):
            log_in(client, member.username, "wrong")
        assert log_in(client, member.username, TEST_PASSWORD).status_code == 302
        client.post("/logout/")


def test_logging_in_to_an_own_account_between_guesses_does_not_reset_them(org, member):
    attacker = UserFactory(username="mallory@example.com", email="mallory@example.com")
    MembershipFactory(organization=org, user=attacker)
    client = Client()
    for _ in range(LIMIT - 1):
        log_in(client, member.username, "wrong")
    assert log_in(client, attacker.username, TEST_PASSWORD).status_code == 302
    client.post("/logout/")
    log_in(client, member.username, "wrong")
    assert log_in(Client(), member.username, TEST_PASSWORD, address="10.9.9.9").status_code == 429


def test_the_admin_login_is_locked_out_too(db):
    admin = UserFactory(username="root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(40):
        client.post("/admin/login/", {"username": admin.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
