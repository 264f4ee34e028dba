"""Browser benchmark: Chromium's navigation-to-load time of the overview, campaign and
publisher pages, warm cache, next to the server's own response time in the same run.

    .venv/bin/python bench/browser.py [--calls 1000000] [--runs 20] [--server gunicorn|runserver]
                                      [the data options of bench/pages.py]

The data and the pages are bench/pages.py's (`bench_pages_prepare`: same loader, same
database, the busiest campaign's and publisher's pages over the last 30 local days). The
static files are collected as `make run` collects them (hashed, compressed), then the app is
served on a free local port the way the README runs it: `gunicorn` as the Docker image does
(DEBUG off, 2 workers, one per core) or `runserver` as `make run` does (DEBUG on).

For each page, `--runs` times after warm-up:
- server: the page's HTML fetched over HTTP by a plain client (httpx, keep-alive): what the
  server costs, socket included;
- browser: Debian's Chromium (Playwright) navigating to the page in a tab that has loaded it
  before, so its static files come from the cache as a returning member's would: the
  Navigation Timing `loadEventEnd`, and the cold first load for comparison. The tab goes from
  the page to the page, as a member goes from page to page: a detour through about:blank
  would make Chromium start a new renderer process for each load (the pages send Django's
  Cross-Origin-Opener-Policy: same-origin), which compiles plotly.js anew every time;
- charts drawn: the load event no longer waits for the charts (static/js/charts.js asks for
  plotly.js after it and draws each chart when it comes near the viewport), so the time from
  navigation start to charts.js's User Timing mark "charts-drawn", set once every chart in
  the viewport at load (1440x900) is drawn: when the page above the fold is complete. Charts
  further down are drawn as they are scrolled near, and are not timed;
- no charts: the campaign list (the same shell, no chart, no plotly.js), as a baseline;
- login: the lightest page of the app (the login form, logged out: the same stylesheet and
  app.js, no filter bar): what Chromium takes for a page of this shell with next to nothing in
  it, a floor under every other page's time after its HTML.
Target (issue 13): load <= 2x the server's time and under 400 ms; the summary also says whether
"charts drawn" would meet it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, whose kpis.py would shadow the app

from bench import kpis as kpis_bench  # noqa: E402  (needs ROOT on the path)
from bench import pages as pages_bench  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LOAD_TARGET_MS = 400
# Of bench/pages.py's pages, the chart pages issue 13 names.
TIMED_PAGES = ("overview", "campaign", "publisher")
LOAD_TARGET_RATIO = 2.0
NO_CHARTS = "no-charts"
FLOOR = "login"
# The baselines: pages with no chart, so no "charts drawn".
CHARTLESS = (NO_CHARTS, FLOOR)
NAVIGATION = """() => {
    const [entry] = performance.getEntriesByType("navigation");
    return {load: entry.loadEventEnd, parsed: entry.domContentLoadedEventEnd,
            server: entry.responseEnd - entry.requestStart,
            transferred: performance.getEntriesByType("resource")
                .reduce((sum, r) => sum + r.transferSize, entry.transferSize)};
}"""
# When the charts in view at load are drawn, from navigation start: static/js/charts.js's
# "charts-drawn" mark, null until then. A checkout whose charts.js has no such mark (no
# data-plotly-src: bench/browser_compare.py's other one, from before lazy charts) drew them
# all before the load event, so its load is that moment.
CHARTS_DRAWN = """() => {
    const [mark] = performance.getEntriesByName("charts-drawn", "mark");
    if (mark) return mark.startTime;
    if (document.querySelector("script[data-plotly-src]")) return null;
    return performance.getEntriesByType("navigation")[0].loadEventEnd || null;
}"""
# First contentful paint, from navigation start: the tiles and tables, which charts.js no longer
# holds back (0 until Chromium reports it, a frame after it painted).
FIRST_PAINT = """() => {
    const [paint] = performance.getEntriesByName("first-contentful-paint");
    return paint ? paint.startTime : 0;
}"""
# How many of the page's charts are in the viewport at the top of the page: those "charts
# drawn" waits for.
CHARTS_IN_VIEW = """() => {
    const charts = [...document.querySelectorAll("[data-plotly-figure]")];
    const inView = charts.filter((div) => {
        const box = div.getBoundingClientRect();
        return box.top < innerHeight && box.bottom > 0;
    });
    return `${inView.length} of ${charts.length} charts in view`;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, debug: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="true" if debug else "false",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-secret-key-0123456789abcdefghijklmnop",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        TRUST_X_FORWARDED="false",
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)  # the pages read no cache worth a broker here
    return env


def server_start(kind: str, database_url: str, port: int, root: Path = ROOT) -> subprocess.Popen:
    """Collect the static files of the checkout at `root` and serve its app (another checkout
    for bench/browser_compare.py: its code first on the path, before this venv's install)."""
    python = sys.executable
    debug = kind == "runserver"
    env = server_environment(database_url, debug)
    env["PYTHONPATH"] = str(root)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=root,
        env=env,
        check=True,
    )
    if kind == "gunicorn":
        command = [
            str(Path(python).parent / "gunicorn"),
            "ppc_dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ]
    else:
        command = [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=root, env=env)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{kind} did not start on port {port}")


def page_url(bench, name: str) -> str:
    """The URL of a timed page: one of bench/pages.py's, or "no-charts", the campaign list
    over the same view (the same shell and filter bar, no chart and no plotly.js), or the
    login page (logged out), the floor."""
    if name == NO_CHARTS:
        view = bench.pages["overview"][0].split("?")[1]
        return f"/campaigns/?{view}"
    if name == FLOOR:
        return "/login/"
    return bench.pages[name][0]


def session_cookie(organization) -> str:
    """A logged-in session of the bench member, stored in the database the server reads."""
    client = pages_bench.member_client(organization)
    return client.cookies["sessionid"].value


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):6.1f} ms p95 {percentile(samples, 0.95):6.1f} ms"


class PageTimes(NamedTuple):
    """One page's samples, in ms: server (httpx), and in Chromium the response, the first
    paint, DOM ready, the load event and "charts drawn" (none on the page without charts),
    with how many charts that waits for."""

    name: str
    path: str
    server: kpis_bench.Timing
    response: list[float]
    painted: list[float]
    parsed: list[float]
    loads: list[float]
    drawn: list[float]
    in_view: str
    cold: dict

    @property
    def load_p50(self) -> float:
        return statistics.median(self.loads)

    @property
    def drawn_p50(self) -> float:
        return statistics.median(self.drawn)

    def meets_target(self, moment: float) -> bool:
        return moment <= LOAD_TARGET_MS and moment <= LOAD_TARGET_RATIO * self.server.p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    pages_bench.arguments_add(parser)
    parser.add_argument("--runs", type=int, default=20, help="timed loads per page")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    bench = pages_bench.bench_pages_prepare(parser, args)

    import logging

    import httpx
    from playwright.sync_api import sync_playwright

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise

    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    cookie = session_cookie(bench.organization)
    process = server_start(args.server, args.database_url, port)
    rows: list[PageTimes] = []
    try:
        member = httpx.Client(base_url=origin, cookies={"sessionid": cookie}, timeout=60)
        anonymous = httpx.Client(base_url=origin, timeout=60)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            # Baselines in the same run: the campaign list, the same shell and filter bar but
            # no chart, so no plotly.js; and the login page, the floor.
            pages = {name: bench.pages[name] for name in TIMED_PAGES}
            pages[NO_CHARTS] = (page_url(bench, NO_CHARTS), ['id="campaign-table"'])
            pages[FLOOR] = (page_url(bench, FLOOR), ['name="password"'])
            for name, (url, expected) in pages.items():
                # A context of its own per page: its first load is a cold one.
                context = chromium.new_context(viewport={"width": 1440, "height": 900})
                http = member
                if name == FLOOR:
                    http = anonymous  # logged in, the login page redirects
                else:
                    context.add_cookies([{"name": "sessionid", "value": cookie, "url": origin}])
                tab = context.new_page()
                html = http.get(url).text
                missing = [text for text in expected if text not in html]
                if missing:
                    raise SystemExit(f"{url}: the page lacks {missing}")

                def fetch(url: str = url, http: httpx.Client = http) -> None:
                    if http.get(url).status_code != 200:
                        raise SystemExit(f"{url}: not a 200 while timing")

                server = kpis_bench.timed(fetch, runs=args.runs, warmup=kpis_bench.WARMUP_RUNS)
                loads, parsed, seen, painted_at, drawn = [], [], [], [], []
                cold, in_view = None, ""
                for run in range(args.runs + kpis_bench.WARMUP_RUNS):
                    tab.goto(origin + url, wait_until="load")
                    charts = None
                    if name not in CHARTLESS:
                        charts = tab.wait_for_function(CHARTS_DRAWN).json_value()
                        in_view = tab.evaluate(CHARTS_IN_VIEW)
                    painted = tab.wait_for_function(FIRST_PAINT).json_value()
                    # After the charts in view: what they transferred counts too.
                    timing = tab.evaluate(NAVIGATION) | {"charts": charts, "paint": painted}
                    if cold is None:
                        cold = timing
                    if run >= kpis_bench.WARMUP_RUNS:
                        loads.append(timing["load"])
                        parsed.append(timing["parsed"])
                        seen.append(timing["server"])
                        painted_at.append(timing["paint"])
                        if charts is not None:
                            drawn.append(timing["charts"])
                context.close()
                rows.append(
                    PageTimes(
                        name,
                        url.split("?")[0],
                        server,
                        seen,
                        painted_at,
                        parsed,
                        loads,
                        drawn,
                        in_view,
                        cold,
                    )
                )
                print(
                    f"{name:<9} server {server}  browser: response {statistics.median(seen):6.1f} "
                    f"ms, first paint p50 {statistics.median(painted_at):6.1f} ms, "
                    f"load {spread(loads)}"
                    + (f", charts drawn {spread(drawn)} ({in_view})" if drawn else "")
                    + f"; cold load {cold['load']:.0f} ms"
                    + (f", charts drawn {cold['charts']:.0f} ms" if drawn else "")
                    + f", {cold['transferred']:,} B transferred"
                )
            chromium.close()
    finally:
        process.terminate()
        process.wait(timeout=30)

    chart_pages = [page for page in rows if page.drawn]
    met = all(page.meets_target(page.load_p50) for page in chart_pages)
    drawn_met = all(page.meets_target(page.drawn_p50) for page in chart_pages)
    print(
        "\n```\n"
        f"Browser benchmark (bench/browser.py): {args.calls:,} calls over {args.days} days, "
        f"{bench.campaigns} campaigns, {bench.publishers} publishers; {bench.server}, "
        f"{os.cpu_count()} cores; {args.server}, Chromium at 1440x900, warm cache\n"
        f"{args.runs} runs per page, load average {os.getloadavg()[0]:.2f} at the end\n"
        + "".join(
            f"{page.name:<9} {page.path:<16} server p50 {page.server.p50:6.1f} ms | first paint "
            f"p50 {statistics.median(page.painted):6.1f} ms | DOM ready p50 "
            f"{statistics.median(page.parsed):6.1f} ms | load {spread(page.loads)} "
            f"({page.load_p50 / page.server.p50:.1f}x server) | "
            + (
                f"charts drawn {spread(page.drawn)} "
                f"({page.drawn_p50 / page.server.p50:.1f}x server, {page.in_view}) | "
                if page.drawn
                else ""
            )
            + f"cold load {page.cold['load']:.0f} ms"
            + (f", charts drawn {page.cold['charts']:.0f} ms" if page.drawn else "")
            + f", {page.cold['transferred'] / 1e6:.2f} MB\n"
            for page in rows
        )
        + f"target: load p50 <= {LOAD_TARGET_RATIO:.0f}x server and <= {LOAD_TARGET_MS} ms "
        f"{'met' if met else 'MISSED'}\n"
        'the charts in view at load are drawn after the load event, at "charts drawn" '
        "(static/js/charts.js's mark); timed by it, the target is "
        f"{'met' if drawn_met else 'MISSED'}\n"
        "```"
    )


if __name__ == "__main__":
    main()
