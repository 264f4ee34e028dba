"""The vendored plotly.js bundle (static/plotly/, ppc_dashboard.static_files.PLOTLY_JS): its
version is the pinned one, the one plotly.py validates our figures against, and it draws every
trace type our chart builders emit. A partial bundle without a trace type draws nothing for
that chart and says so only in the browser's console, so this test names it instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import plotly.offline
import pytest
from django.conf import settings

from kpis.pages import charts
from ppc_dashboard.static_files import PLOTLY_JS, PLOTLY_JS_VERSION
from tests.kpis.pages.test_charts import FIGURES

BUNDLE = Path(settings.BASE_DIR) / "static" / PLOTLY_JS


def bundle_text() -> str:
    return BUNDLE.read_text(encoding="utf-8")


def bundle_trace_types() -> set[str]:
    """The trace modules the bundle registers (each is `moduleType:"trace",name:"bar"`)."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle_text()))


def emitted_trace_types() -> set[str]:
    # A trace without a type is a scatter, as plotly.js reads it.
    return {trace.get("type", "scatter") for build in FIGURES.values() for trace in build()["data"]}


def test_the_bundle_is_the_pinned_version_with_its_license():
    header = bundle_text()[:400]
    version = re.escape(PLOTLY_JS_VERSION)
    assert re.search(rf"plotly\.js \(cartesian - minified\) v{version}\n", header)
    assert "Licensed under the MIT license" in header
    assert "MIT License" in (BUNDLE.parent / "LICENSE").read_text(encoding="utf-8")


def test_the_pinned_version_is_the_plotly_js_plotly_py_targets():
    # Upgrading the plotly package changes this: vendor the bundle of its plotly.js version
    # (npm plotly.js-cartesian-dist-min@<version>) and move PLOTLY_JS_VERSION with it.
    assert plotly.offline.get_plotlyjs_version() == PLOTLY_JS_VERSION


def test_the_figures_cover_every_chart_builder(monkeypatch):
    builders = sorted(name for name in dir(charts) if name.endswith("_figure"))
    called = set()
    for name in builders:
        original = getattr(charts, name)

        def recording(*args, _name=name, _original=original, **kwargs):
            called.add(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(charts, name, recording)
    for build in FIGURES.values():
        build()
    assert called == set(builders), "add the new chart builder to test_charts.FIGURES"


def test_the_bundle_draws_every_trace_type_our_figures_use():
    emitted = emitted_trace_types()
    assert {"bar", "scatter", "heatmap"} <= emitted  # the parsing found what the pages draw
    missing = emitted - bundle_trace_types()
    assert not missing, f"the vendored plotly.js lacks the trace types {sorted(missing)}"


@pytest.mark.parametrize("trace_type", ["scattergeo", "choropleth", "scattermap", "scatter3d"])
def test_the_bundle_lacks_the_traces_it_leaves_out(trace_type):
    # The parsing above can tell a trace type missing (a map or 3D one, which this bundle
    # leaves out), so "every type is in the bundle" is not true of any bundle by construction.
    assert trace_type not in bundle_trace_types()
