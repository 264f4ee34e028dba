"""Browser A/B: this checkout's chart pages and plotly.js against another checkout's, timed
interleaved in one Chromium, for a machine whose load moves between two runs of
bench/browser.py.

    git worktree add --detach /tmp/base main
    .venv/bin/python bench/browser_compare.py --other /tmp/base [--runs 20]
                                              [the data options of bench/pages.py]

Both checkouts are served by gunicorn (bench/browser.py's `server_start`, 2 workers each) on
the same bench database, after collecting their own static files. Each measure takes one
sample of "this" then one of "other", and again, so both see the same load:
- plotly.js alone: on a page without charts (the login page), the checkout's plotly.js bundle
  (its hashed name from its staticfiles.json) added as a script element, timed to its
  `onload`: fetched from the warm cache and evaluated, as a chart page does;
- each page of bench/browser.py (its chart pages and the page without charts): the first
  contentful paint, the Navigation Timing load, what comes after the HTML until the load
  event (loadEventEnd - responseEnd: the browser's share of issue 13's target, which the
  server's own time does not move) and until the charts in view are drawn (bench/browser.py's
  CHARTS_DRAWN - responseEnd: the "charts-drawn" mark of lazy charts, the load event of a
  checkout that drew them all before it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import browser as browser_bench  # noqa: E402  (needs ROOT on the path)
from bench import pages as pages_bench  # noqa: E402

WARMUP = 3
SCRIPT_LOAD = """async (src) => {
    const start = performance.now();
    await new Promise((loaded, failed) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = loaded;
        script.onerror = failed;
        document.head.appendChild(script);
    });
    return performance.now() - start;
}"""
RESPONSE_END = """() => performance.getEntriesByType("navigation")[0].responseEnd"""


def plotly_url(root: Path) -> str:
    """The hashed URL of the checkout's plotly.js bundle, as its pages link it."""
    manifest = json.loads((root / "staticfiles" / "staticfiles.json").read_text())
    [name] = [
        hashed
        for plain, hashed in manifest["paths"].items()
        if plain.startswith("plotly/") and plain.endswith(".js")
    ]
    return f"/static/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    pages_bench.arguments_add(parser)
    parser.add_argument("--other", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=20, help="timed samples per checkout")
    parser.add_argument(
        "--pages",
        nargs="+",
        choices=[*browser_bench.TIMED_PAGES, browser_bench.NO_CHARTS],
        default=[*browser_bench.TIMED_PAGES, browser_bench.NO_CHARTS],
        help="the pages to time (default: all)",
    )
    args = parser.parse_args()
    bench = pages_bench.bench_pages_prepare(parser, args)
    cookie = browser_bench.session_cookie(bench.organization)

    from playwright.sync_api import sync_playwright

    checkouts = {"this": ROOT, "other": args.other.resolve()}
    origins, processes = {}, []
    try:
        for label, root in checkouts.items():
            port = browser_bench.free_port()
            processes.append(browser_bench.server_start("gunicorn", args.database_url, port, root))
            origins[label] = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=browser_bench.CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            # plotly.js alone.
            tabs = {label: chromium.new_context().new_page() for label in checkouts}
            urls = {label: plotly_url(root) for label, root in checkouts.items()}
            alone: dict[str, list[float]] = {label: [] for label in checkouts}
            for run in range(args.runs + WARMUP):
                for label, tab in tabs.items():
                    tab.goto(origins[label] + "/login/")
                    took = tab.evaluate(SCRIPT_LOAD, urls[label])
                    if run >= WARMUP:
                        alone[label].append(took)
            for label, tab in tabs.items():
                took = browser_bench.spread(alone[label])
                print(f"plotly.js alone, {label:<5} {took}  {urls[label]}")
                tab.context.close()
            for name in args.pages:
                url = browser_bench.page_url(bench, name)
                tabs = {}
                for label in checkouts:
                    context = chromium.new_context(viewport={"width": 1440, "height": 900})
                    context.add_cookies(
                        [{"name": "sessionid", "value": cookie, "url": origins[label]}]
                    )
                    tabs[label] = context.new_page()
                painted: dict[str, list[float]] = {label: [] for label in checkouts}
                loads: dict[str, list[float]] = {label: [] for label in checkouts}
                after: dict[str, list[float]] = {label: [] for label in checkouts}
                to_load: dict[str, list[float]] = {label: [] for label in checkouts}
                for run in range(args.runs + WARMUP):
                    for label, tab in tabs.items():
                        tab.goto(origins[label] + url, wait_until="load")
                        drawn = None
                        if name not in browser_bench.CHARTLESS:
                            drawn = tab.wait_for_function(browser_bench.CHARTS_DRAWN).json_value()
                        paint = tab.wait_for_function(browser_bench.FIRST_PAINT).json_value()
                        if run >= WARMUP:
                            load = tab.evaluate(browser_bench.NAVIGATION)["load"]
                            response_end = tab.evaluate(RESPONSE_END)
                            painted[label].append(paint)
                            loads[label].append(load)
                            to_load[label].append(load - response_end)
                            if drawn is not None:
                                after[label].append(drawn - response_end)
                for label, tab in tabs.items():
                    print(
                        f"{name:<9} {label:<5} first paint p50 "
                        f"{statistics.median(painted[label]):6.1f} ms | "
                        f"load {browser_bench.spread(loads[label])} | "
                        f"HTML to load {browser_bench.spread(to_load[label])}"
                        + (
                            f" | HTML to charts drawn {browser_bench.spread(after[label])}"
                            if after[label]
                            else ""
                        )
                    )
                    tab.context.close()
            chromium.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    print(f"{args.runs} samples each, load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
