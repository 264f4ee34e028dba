from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable cursor pagination; viewsets with a time order set their own `ordering`."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 1000
