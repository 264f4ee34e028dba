from pathlib import Path

# Debian's Chromium, which the browser tests drive (Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"
# Where the browser tests leave their screenshots (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def screenshot(page, name: str) -> None:
    """The whole page as it is now, in artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def charts_draw_all(page) -> None:
    """Every chart of the page drawn: static/js/charts.js draws a chart only when it comes
    near the viewport, so each is scrolled into view and waited for; then back to the top."""
    for chart in page.locator("[data-plotly-figure]").all():
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
