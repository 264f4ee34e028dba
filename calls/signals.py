"""What the calls app tells the apps that read it, so that it never imports them.

Both are sent inside the writer's transaction, so what a receiver writes (the kpis app marks
its rollup days dirty) commits or rolls back with the calls it describes.
"""

from django.dispatch import Signal

# Calls were written, changed or deleted. Arguments: `organization`, `instants` (the start times,
# old and new, of every call whose numbers changed), and optionally `deferred`: True when a
# bulk writer (an import) sends `calls_bulk_written` once all its calls are in, so the days
# are only marked now and refreshed once then, not after every chunk.
calls_changed = Signal()

# A bulk writer that sent `calls_changed(deferred=True)` has written everything: the days it
# marked are ready for one refresh. Argument: `organization`.
calls_bulk_written = Signal()

# A campaign's qualifying threshold changed: every past day of the campaign counts differently
# (KPIS.md: changing it re-computes history). Argument: `campaign`.
campaign_qualifying_changed = Signal()
