"""Every table header cell of every template names its column (WCAG 1.3.1): a header a
screen reader announces as nothing was what two settings tables had. An actions column is
named for screen readers only (`<span class="sr-only">Actions</span>`)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
EMPTY_HEADER = re.compile(r"<th\b[^>]*>\s*(?:&nbsp;)?\s*</th>")


def test_no_template_has_an_empty_table_header():
    empty = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in EMPTY_HEADER.finditer(path.read_text(encoding="utf-8"))
    ]
    assert empty == []
