# Debian's Chromium, which the browser tests drive (Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"


def charts_draw_all(page) -> None:
    """Every chart of the page drawn: static/js/charts.js draws a chart only when it comes
    near the viewport, so each is scrolled into view and waited for; then back to the top."""
    for chart in page.locator("[data-plotly-figure]").all():
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
