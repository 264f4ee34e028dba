# Debian's Chromium, which the browser tests drive (Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"
