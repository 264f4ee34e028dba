"""US states for the geography page: names, and their cells in a tile-grid map.

A tile-grid map draws each state as one equal square placed roughly where the state is, so it
needs no map tiles or shapes fetched at run time (the page works offline), and small states
are as visible as large ones. The layout is the usual one of news graphics (Alaska top left,
Hawaii bottom left, Maine top right), 8 rows of 11 columns.
"""

from __future__ import annotations

STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}

# Rows top to bottom, "" for the sea; each row is 11 cells.
_GRID = (
    ("AK", "", "", "", "", "", "", "", "", "", "ME"),
    ("", "", "", "", "", "WI", "", "", "", "VT", "NH"),
    ("WA", "ID", "MT", "ND", "MN", "IL", "MI", "", "NY", "MA", ""),
    ("OR", "NV", "WY", "SD", "IA", "IN", "OH", "PA", "NJ", "CT", "RI"),
    ("CA", "UT", "CO", "NE", "MO", "KY", "WV", "VA", "MD", "DE", ""),
    ("", "AZ", "NM", "KS", "AR", "TN", "NC", "SC", "DC", "", ""),
    ("", "", "", "OK", "LA", "MS", "AL", "GA", "", "", ""),
    ("HI", "", "", "TX", "", "", "", "", "FL", "", ""),
)
GRID_ROWS = len(_GRID)
GRID_COLUMNS = len(_GRID[0])
# State code -> (row, column) of its tile.
STATE_TILES = {
    code: (row, column)
    for row, cells in enumerate(_GRID)
    for column, code in enumerate(cells)
    if code
}

_BY_NAME = {name.upper(): code for code, name in STATE_NAMES.items()}


def state_code(region: str | None) -> str | None:
    """The state a caller region names ("IL", "il", "Illinois", "US-IL"), or None."""
    if not region:
        return None
    text = region.strip().upper()
    text = text.removeprefix("US-")
    if text in STATE_NAMES:
        return text
    return _BY_NAME.get(text)
