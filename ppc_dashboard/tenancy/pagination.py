import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class CheckedCursorPagination(CursorPagination):
    """Cursor pagination that refuses a cursor whose position its ordering field cannot hold.

    DRF checks a cursor's offset but filters on its position as given; a forged or garbled
    position (`p=garbage`, a date off the calendar) would fail in the query with a 500. Such a
    cursor is answered like any other invalid one: 404 "Invalid cursor".
    """

    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = queryset.model._meta.get_field(
            self.get_ordering(request, queryset, view)[0].lstrip("-")
        )
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                value = self._position_field.to_python(cursor.position)
                if isinstance(value, dt.datetime) and value.tzinfo is not None:
                    value.astimezone(dt.UTC)  # off the calendar in UTC: refused on any database
                self._position_field.get_db_prep_value(value, connection)
            except (ValidationError, ValueError, OverflowError) as exc:
                raise NotFound(self.invalid_cursor_message) from exc
        return cursor


class IdCursorPagination(CheckedCursorPagination):
    """Stable cursor pagination; viewsets with a time order set their own `ordering`."""

    ordering = "-id"
