from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .validation import protected_delete_message


def api_exception_handler(exc, context):
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting a campaign that still has calls, say: the data stays, the client is told why.
        return Response({"detail": protected_delete_message(exc)}, status=status.HTTP_409_CONFLICT)
    return exception_handler(exc, context)
