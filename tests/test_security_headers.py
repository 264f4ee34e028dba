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
