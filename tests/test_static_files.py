"""Static files in every mode the README documents (`make run` with DEBUG on, production with
it off): pages link hashed names, WhiteNoise serves them cached for a year and compressed.

collectstatic runs once, into a folder of this module's own, with the project's storage.
"""

import datetime as dt
import os
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

from kpis.rollups import rollups_rebuild
from ppc_dashboard.static_files import PLOTLY_JS
from ppc_dashboard.tenancy.models import Role
from tests.conftest import _member_client
from tests.factories import CallFactory, CampaignFactory

STORAGE = "ppc_dashboard.static_files.HashedStaticFilesStorage"
IGNORED = ["admin", "drf_spectacular_sidecar", "rest_framework"]
ONE_YEAR = "max-age=31536000, public, immutable"


def project_storages():
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE},
    }


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("collected")
    with override_settings(STATIC_ROOT=root, STORAGES=project_storages()):
        # The admin's and the API docs' files are collected alike; leaving them out saves
        # compressing 3 MB more.
        call_command("collectstatic", "--noinput", verbosity=0, ignore_patterns=IGNORED)
    return root


@pytest.fixture
def collected(settings, static_root):
    settings.STATIC_ROOT = static_root
    settings.STORAGES = project_storages()
    return static_root


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_settings_use_the_hashed_compressed_storage_and_a_years_cache():
    # The suite's conftest swaps the storage for the plain one; the settings module's own
    # value is what `make run` and production get.
    import ppc_dashboard.settings as project_settings

    assert project_settings.STORAGES["staticfiles"]["BACKEND"] == STORAGE
    assert "ppc_dashboard.static_files.StaticFilesMiddleware" in project_settings.MIDDLEWARE


@pytest.mark.parametrize("debug", [True, False], ids=["make-run", "production"])
def test_hashed_plotly_is_cached_for_a_year_and_served_compressed(collected, settings, debug):
    settings.DEBUG = debug
    url = static(PLOTLY_JS)
    assert re.fullmatch(r"/static/plotly/plotly-cartesian\.min\.[0-9a-f]{12}\.js", url)
    client = Client()
    plain = client.get(url)
    assert plain.status_code == 200
    assert plain["Cache-Control"] == ONE_YEAR
    size = len(body(plain))
    assert size > 1_000_000
    for encoding in ("br", "gzip"):
        response = client.get(url, HTTP_ACCEPT_ENCODING=f"{encoding}, identity")
        assert response["Content-Encoding"] == encoding
        assert response["Cache-Control"] == ONE_YEAR
        assert "Accept-Encoding" in response["Vary"]
        assert len(body(response)) < size * 0.35


@pytest.mark.parametrize("debug", [True, False], ids=["make-run", "production"])
def test_a_chart_page_names_plotly_once_by_its_hashed_name(collected, settings, debug, org):
    settings.DEBUG = debug
    campaign = CampaignFactory(organization=org)
    CallFactory(
        organization=org,
        campaign=campaign,
        started_at=dt.datetime.now(tz=dt.UTC) - dt.timedelta(hours=1),
        revenue=Decimal("10"),
    )
    rollups_rebuild(org)
    html = _member_client(org, Role.VIEWER).get("/").content.decode()
    # Named once, for static/js/charts.js to load after the load event; never a script of
    # the page's own, which would hold the parser and the load event.
    assert re.findall(r'data-plotly-src="([^"]*)"', html) == [static(PLOTLY_JS)]
    assert re.findall(r'<script src="([^"]*plotly[^"]*)"', html) == []
    assert re.search(r'href="/static/css/app\.[0-9a-f]{12}\.css"', html)


def test_collectstatic_again_compresses_nothing_that_did_not_change(collected):
    hashed = collected / static(PLOTLY_JS).removeprefix("/static/")
    variants = [f"{hashed}.br", f"{hashed}.gz"]
    before = [os.stat(path).st_mtime_ns for path in variants]
    call_command("collectstatic", "--noinput", verbosity=0, ignore_patterns=IGNORED)
    assert [os.stat(path).st_mtime_ns for path in variants] == before


def test_only_the_vendored_plotly_bundle_and_its_license_are_collected(collected):
    bundle = os.path.basename(PLOTLY_JS)
    files = [name for name in os.listdir(collected / "plotly") if not name.startswith("LICENSE")]
    assert sorted(files) == sorted(
        f"{name}{suffix}"
        for name in (bundle, os.path.basename(static(PLOTLY_JS)))
        for suffix in ("", ".br", ".gz")
    )


def test_no_page_script_holds_the_parser():
    """A script without defer stops the HTML parser where it stands until it has run, and it
    may run only once the stylesheet is in: the filter bar's, near the top of every KPI page,
    held the rest of the page back. Every script of our own is deferred (the data blocks of
    the charts are not scripts that run)."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[1] / "templates"
    tag = re.compile(r"<script\b(?![^>]*application/json)[^>]*>")
    blocking = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in tag.finditer(path.read_text())
        if not re.search(r"\s(defer|async)\b", match.group(0))
    ]
    assert blocking == []
