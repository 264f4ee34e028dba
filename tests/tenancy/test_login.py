import pytest

from ppc_dashboard.tenancy.models import Role
from tests.conftest import TEST_PASSWORD
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def member(org):
    user = UserFactory(username="ann@example.com", email="ann@example.com")
    MembershipFactory(organization=org, user=user, role=Role.ANALYST)
    return user


def test_login_page_renders_the_form(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page


def test_login_with_good_credentials_goes_to_the_dashboard(client, member):
    response = client.post("/login/", {"username": member.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Acme Calls" in page
    assert "analyst" in page


def test_login_goes_to_the_page_asked_for(client, member):
    response = client.post(
        "/login/?next=/calls/",
        {"username": member.username, "password": TEST_PASSWORD, "next": "/calls/"},
    )
    assert response["Location"] == "/calls/"


def test_login_with_a_wrong_password_is_refused_with_a_message(client, member):
    response = client.post("/login/", {"username": member.username, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert client.get("/calls/").status_code == 302


def test_pages_send_anonymous_visitors_to_login(client, db):
    response = client.get("/calls/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/calls/"


def test_logged_in_user_visiting_login_is_sent_on(client, member):
    client.force_login(member)
    assert client.get("/login/")["Location"] == "/"


def test_logout_ends_the_session(client, member):
    client.force_login(member)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/calls/").status_code == 302


def test_user_without_an_organization_is_refused_the_pages(client, db):
    client.force_login(UserFactory())
    assert client.get("/calls/").status_code == 403


def test_login_lands_in_the_organization_last_switched_to(client, org):
    other_org = OrganizationFactory(slug="rival", name="Rival Media")
    user = UserFactory(username="both@example.com", email="both@example.com")
    MembershipFactory(organization=org, user=user)
    MembershipFactory(organization=other_org, user=user)
    client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    # With nothing chosen yet, the first by name.
    assert client.get("/settings/").context["current_organization"] == org
    client.post("/switch/", {"organization": other_org.pk, "next": "/"})
    client.post("/logout/")
    client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert client.get("/settings/").context["current_organization"] == other_org
