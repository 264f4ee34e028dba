from pathlib import Path

# Debian's Chromium, which the browser tests drive (Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"
# Where the browser tests leave their screenshots (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def skipped_content_draw(page) -> None:
    """What content-visibility: auto skips while out of view (static/css/app.css: the
    verdict board's entities) drawn, as a member scrolling through sees it: a full-page
    screenshot does not bring it near the viewport, and axe would pass over it as hidden."""
    page.evaluate(
        """() => document.querySelectorAll("body *").forEach(element => {
            if (getComputedStyle(element).contentVisibility === "auto")
                element.style.contentVisibility = "visible";
        })"""
    )


def screenshot(page, name: str) -> None:
    """The whole page as it is now, everything drawn, in artifacts/screenshots/<name>.png."""
    skipped_content_draw(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def charts_draw_all(page) -> None:
    """Every chart of the page drawn: static/js/charts.js draws a chart only when it comes
    near the viewport, so each is scrolled into view and waited for; then back to the top."""
    for chart in page.locator("[data-plotly-figure]").all():
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
