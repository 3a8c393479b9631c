from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from apps.accounts.permissions import AdminOnly

from ..filters import filter_audit
from ..models import AuditLog
from .serializers import AuditLogSerializer


@extend_schema(
    parameters=[
        OpenApiParameter(name, str, description=text)
        for name, text in [
            ("actor", "username"),
            ("action", "an action such as container.start, or container.*"),
            ("resource_type", "container, image, volume, network, user"),
            ("resource_id", "engine id or name"),
            ("outcome", "success or failure"),
            ("since", "ISO 8601 time, inclusive"),
            ("until", "ISO 8601 time, exclusive"),
        ]
    ]
)
class AuditLogList(generics.ListAPIView):
    """The audit log, newest first (admins only)."""

    serializer_class = AuditLogSerializer
    permission_classes = [AdminOnly]

    def get_queryset(self):
        return filter_audit(AuditLog.objects.all(), self.request.query_params)


class AuditLogDetail(generics.RetrieveAPIView):
    serializer_class = AuditLogSerializer
    permission_classes = [AdminOnly]
    queryset = AuditLog.objects.all()
