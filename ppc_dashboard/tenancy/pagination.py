import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework import exceptions
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

    def get_page_size(self, request) -> int:
        """The page_size asked for, or the default; one that is no whole number from 1 to
        max_page_size is a 400 (DRF would quietly use the default)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

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
