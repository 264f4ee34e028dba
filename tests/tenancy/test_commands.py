from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from rest_framework.test import APIClient

from ppc_dashboard.tenancy.models import ApiKey, Membership, Organization, hash_api_key
from tests.factories import CampaignFactory, UserFactory


def login(username: str, password: str):
    """The user these credentials log in, as the login page asks (with the request)."""
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


def run(*args) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


# --- create_org ----------------------------------------------------------------------------


def test_create_org_creates_the_organization_and_prints_its_webhook_path(db):
    out, _ = run("create_org", "acme", "--name", "Acme Calls", "--timezone", "America/Chicago")
    organization = Organization.objects.get(slug="acme")
    assert (organization.name, organization.timezone, organization.currency) == (
        "Acme Calls",
        "America/Chicago",
        "USD",
    )
    assert f"/hooks/twilio/{organization.webhook_token}/" in out


def test_create_org_with_a_taken_slug_is_a_clear_error(org):
    with pytest.raises(CommandError, match="slug"):
        run("create_org", org.slug, "--name", "Again")
    assert Organization.objects.filter(slug=org.slug).count() == 1


def test_create_org_takes_the_country_phone_numbers_are_read_in(db):
    out, _ = run("create_org", "acme", "--name", "Acme", "--country", "gb")
    assert Organization.objects.get(slug="acme").country == "GB"
    assert ", GB)." in out


def test_a_new_organization_reads_phone_numbers_as_us_numbers(db):
    run("create_org", "acme", "--name", "Acme")
    assert Organization.objects.get(slug="acme").country == "US"


@pytest.mark.parametrize(
    "option, value, field",
    [
        ("--timezone", "Mars/Olympus", "timezone"),
        ("--currency", "dollars", "currency"),
        ("--country", "XX", "country"),
    ],
)
def test_create_org_with_a_bad_setting_is_a_clear_error(db, option, value, field):
    with pytest.raises(CommandError, match=f"{field}: .*{value}"):
        run("create_org", "acme", "--name", "Acme", option, value)
    assert not Organization.objects.exists()


# --- create_user ---------------------------------------------------------------------------


def test_create_user_prints_a_generated_password_that_logs_in(org):
    out, _ = run("create_user", "Alice@Example.com", "--org", org.slug, "--role", "manager")
    assert "alice@example.com is manager of 'acme'." in out
    password = out.split("Password: ", 1)[1].strip()
    assert len(password) >= 12
    user = login("alice@example.com", password)
    assert user is not None
    assert Membership.objects.get(user=user, organization=org).role == "manager"


def test_create_user_with_a_password_prints_none(org):
    out, _ = run(
        "create_user", "bob@example.com", "--org", org.slug, "--role", "viewer",
        "--password", "a-long-pass-123",
    )  # fmt: skip
    assert "Password" not in out
    assert login("bob@example.com", "a-long-pass-123") is not None


def test_create_user_reuses_an_existing_user_and_adds_the_membership(org, other_org):
    user = UserFactory(username="carol@example.com", email="carol@example.com")
    run("create_user", "carol@example.com", "--org", org.slug, "--role", "viewer")
    out, _ = run("create_user", "CAROL@example.com", "--org", other_org.slug, "--role", "owner")
    assert "Password" not in out
    assert get_user_model().objects.count() == 1
    roles = dict(Membership.objects.filter(user=user).values_list("organization__slug", "role"))
    assert roles == {"acme": "viewer", "rival": "owner"}


def test_create_user_with_a_bad_role_is_a_clear_error(org):
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        run("create_user", "dan@example.com", "--org", org.slug, "--role", "admin")
    assert not get_user_model().objects.exists()


def test_create_user_with_an_unknown_org_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        run("create_user", "dan@example.com", "--org", "nope", "--role", "viewer")
    assert not get_user_model().objects.exists()


def test_create_user_with_a_bad_email_is_a_clear_error(org):
    with pytest.raises(CommandError, match="not an email address"):
        run("create_user", "dan", "--org", org.slug, "--role", "viewer")


# --- create_api_key ------------------------------------------------------------------------


def test_create_api_key_prints_a_key_that_works_against_the_api(org, other_org):
    CampaignFactory(organization=org, name="Mine")
    CampaignFactory(organization=other_org, name="Theirs")
    out, err = run("create_api_key", "--org", org.slug, "--name", "ringba")
    raw_key = out.strip()
    assert "\n" not in raw_key  # stdout is the key alone, so scripts can capture it
    api_key = ApiKey.objects.get(organization=org, name="ringba")
    assert api_key.key_hash == hash_api_key(raw_key)
    assert api_key.prefix in err

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    response = client.get("/api/v1/campaigns/")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Mine"]


def test_create_api_key_for_an_unknown_org_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        run("create_api_key", "--org", "nope", "--name", "x")
