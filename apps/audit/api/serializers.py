from rest_framework import serializers

from ..models import AuditLog


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            "id",
            "timestamp",
            "actor",
            "actor_username",
            "action",
            "resource_type",
            "resource_id",
            "resource_name",
            "outcome",
            "reason",
            "details",
            "ip",
            "user_agent",
            "request_id",
        ]
        read_only_fields = fields
