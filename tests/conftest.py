import pytest
from rest_framework.test import APIClient

from ppc_dashboard.tenancy.models import Role
from ppc_dashboard.tenancy.services import api_key_create

from .factories import MembershipFactory, OrganizationFactory, UserFactory

TEST_PASSWORD = "pw-for-tests-123"


PLAIN_STATIC_STORAGE = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Pages link static files by their plain names here, found in the sources: the hashed
    # names need a collectstatic, which tests/test_static_files.py runs in a folder of its own.
    # The tests never read the developer's staticfiles/, there or not.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PLAIN_STATIC_STORAGE}
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATIC_ROOT.mkdir()
    from django.core.cache import cache

    from ppc_dashboard.tenancy.services import api_keys_forget
    from routing.selectors import plan_rules_cache_clear

    cache.clear()
    plan_rules_cache_clear()
    api_keys_forget()


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme", name="Acme Calls")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="rival", name="Rival Media")


def _key_client(organization) -> APIClient:
    _, raw_key = api_key_create(organization=organization, name="test key")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    client.raw_key = raw_key
    return client


@pytest.fixture
def api_client(org):
    return _key_client(org)


@pytest.fixture
def other_api_client(other_org):
    return _key_client(other_org)


def _member_client(organization, role) -> APIClient:
    user = UserFactory()
    MembershipFactory(organization=organization, user=user, role=role)
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def member_client(org):
    return _member_client(org, Role.MANAGER)


@pytest.fixture
def viewer_client(org):
    return _member_client(org, Role.VIEWER)


@pytest.fixture
def make_member_client():
    return _member_client
