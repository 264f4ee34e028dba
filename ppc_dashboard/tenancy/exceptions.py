from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting a campaign that still has calls, say: the data stays, the client is told why.
        blockers = (
            sorted({type(obj).__name__ for obj in exc.protected_objects})
            if isinstance(exc, ProtectedError)
            else sorted({type(obj).__name__ for obj in exc.restricted_objects})
        )
        return Response(
            {"detail": f"Cannot delete: still referenced by {', '.join(blockers)} records."},
            status=status.HTTP_409_CONFLICT,
        )
    return exception_handler(exc, context)
