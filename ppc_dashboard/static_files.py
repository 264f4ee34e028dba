"""Static files: hashed names, compressed variants, cached for a year, in every mode.

`manage.py collectstatic` (run by `make run`, `make migrate` and the Docker image) writes each
file under a name carrying a hash of its content (app.3f2a9c1e04b7.css) with gzip and Brotli
variants beside it; pages link the hashed names, and WhiteNoise serves them with
`Cache-Control: max-age=31536000, public, immutable` and the variant the browser accepts.
So a page loads plotly.js (1.5 MB, 0.45 MB as Brotli) once, and never asks for it again
until a new plotly.js changes its hash.
"""

from __future__ import annotations

import os

from whitenoise.compress import brotli_installed
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

ONE_YEAR = 365 * 24 * 60 * 60
# plotly.js's "cartesian" bundle (npm plotly.js-cartesian-dist-min, MIT, vendored under
# static/plotly/ with its LICENSE): the bar, scatter and heatmap traces our figures use in 1.5 MB,
# where the full plotly.min.js the plotly package ships is 4.8 MB, which Chromium evaluated on
# every chart page (most of a warm load). Its version is the plotly.js plotly.py targets, so a
# figure plotly.py validates draws the same; tests/test_plotly_bundle.py holds both to this.
PLOTLY_JS = "plotly/plotly-cartesian.min.js"
PLOTLY_JS_VERSION = "4.1.1"


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed manifest storage, hashed names with DEBUG on too.

    Django links the plain names while DEBUG is on (`make run`), which WhiteNoise then serves
    with max-age=0: every page load asked for plotly.js again. Here pages link the collected,
    hashed file in every mode, so a page edited under `make run` needs `make run` again (or
    `manage.py collectstatic`) to be seen.
    """

    def url(self, name: str | None, force: bool = False) -> str:
        return super().url(name, force=True)

    def compress_files(self, paths):
        # collectstatic hands every file to post_process, changed or not, and Brotli takes
        # 10 s over plotly.js alone: compress only the files without current variants.
        hashed = set(self.hashed_files.values())
        stale = [path for path in paths if not self._variants_current(path, path in hashed)]
        return super().compress_files(stale)

    def _variants_current(self, name: str, hashed: bool) -> bool:
        """A hashed file's name says its content, so variants of it, once written, stay right
        (Django rewrites hashed JS and CSS on every run, with the same bytes). A file under
        its plain name has current variants when they carry its modification time, which
        WhiteNoise gives them."""
        source = self.path(name)
        suffixes = (".gz", ".br") if brotli_installed else (".gz",)
        try:
            if hashed:
                return all(os.path.exists(source + suffix) for suffix in suffixes)
            mtime = os.stat(source).st_mtime
            # utime() with float seconds keeps the time to about a microsecond.
            return all(abs(os.stat(source + suffix).st_mtime - mtime) < 1e-3 for suffix in suffixes)
        except FileNotFoundError:
            return False


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with a year (RFC 9111's customary maximum) for hashed files rather than its
    ten, and the hashed names recognised with DEBUG on as well (see the storage above)."""

    FOREVER = ONE_YEAR
