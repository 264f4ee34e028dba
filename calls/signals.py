"""What the calls app tells the apps that read it, so that it never imports them.

Both are sent inside the writer's transaction, so what a receiver writes (the kpis app marks
its rollup days dirty) commits or rolls back with the calls it describes.
"""

from django.dispatch import Signal

# Calls were written, changed or deleted. Arguments: `organization`, `instants` (the start times,
# old and new, of every call whose numbers changed).
calls_changed = Signal()

# A campaign's qualifying threshold changed: every past day of the campaign counts differently
# (KPIS.md: changing it re-computes history). Argument: `campaign`.
campaign_qualifying_changed = Signal()
