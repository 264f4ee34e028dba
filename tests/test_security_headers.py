"""Security headers: every page is served with a Content-Security-Policy that allows scripts
and styles from our own origin only, and no template relies on anything inline.

tests/browser/test_content_security_policy.py checks in Chromium that every page works under it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# What the policy refuses in a template: executable inline scripts (JSON data blocks are not
# executed), <style> elements, style attributes and inline event handlers.
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"),
    "style element": re.compile(r"<style\b"),
    "style attribute": re.compile(r"\sstyle=[\"']"),
    "event handler": re.compile(r"\son[a-z]+=[\"']"),
}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("url", ["/login/", "/", "/settings/members/", "/api/docs/"])
def test_pages_allow_scripts_and_styles_of_their_own_origin_only(client, member_client, url):
    response = (client if url == "/login/" else member_client).get(url)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_templates_hold_nothing_inline_that_the_policy_refuses(template):
    source = template.read_text()
    found = [f"{what}: {m.group(0)!r}" for what, rx in INLINE.items() for m in rx.finditer(source)]
    assert found == []


# ppc_dashboard.content_security_policy builds the site-wide header once per process; what a
# request or a view asks for of its own still goes through django-csp's own middleware.


def _policy_of(view, path: str = "/anything/") -> dict[str, list[str]]:
    from django.test import RequestFactory

    from ppc_dashboard.content_security_policy import CSPMiddleware

    middleware = CSPMiddleware(view)
    request = RequestFactory().get(path)
    middleware.process_request(request)
    return directives(
        middleware.process_response(request, view(request))["Content-Security-Policy"]
    )


def test_the_built_once_header_is_the_one_django_csp_builds():
    from csp.utils import build_policy
    from django.http import HttpResponse

    assert _policy_of(lambda request: HttpResponse()) == directives(build_policy())


def test_changed_settings_change_the_header(settings):
    from django.http import HttpResponse

    _policy_of(lambda request: HttpResponse())  # built with the project's settings
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert _policy_of(lambda request: HttpResponse()) == {"default-src": ["'none'"]}


def test_a_views_own_policy_and_a_nonce_still_reach_the_header(settings):
    from csp.constants import NONCE, SELF
    from django.http import HttpResponse

    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"script-src": [SELF, NONCE], "img-src": [SELF]}
    }

    def with_update(request):
        response = HttpResponse()
        response._csp_update = {"img-src": ["https://maps.example"]}
        return response

    def with_nonce(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    assert "https://maps.example" in _policy_of(with_update)["img-src"]
    assert any(value.startswith("'nonce-") for value in _policy_of(with_nonce)["script-src"])
    # And the plain response after them is the site's again.
    plain = _policy_of(lambda request: HttpResponse())
    assert plain["script-src"] == plain["img-src"] == ["'self'"]
