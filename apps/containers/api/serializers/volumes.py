"""Input of the volume endpoints. Unknown body fields are refused."""

from __future__ import annotations

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..fields import LabelsField

# The engine's own rule for volume names: two characters at least.
VOLUME_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,254}$"
DRIVER_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_./:-]{0,127}$"


class VolumeListQuerySerializer(serializers.Serializer):
    dangling = serializers.BooleanField(required=False, allow_null=True, default=None)
    name = serializers.CharField(required=False, max_length=255)


class VolumeCreateSerializer(StrictSerializer):
    name = serializers.RegexField(
        VOLUME_NAME_PATTERN,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": "Use 2 to 255 letters, digits, '_', '.' and '-', starting "
            "with a letter or digit; leave it out for a generated name."
        },
    )
    driver = serializers.RegexField(
        DRIVER_PATTERN,
        default="local",
        error_messages={"invalid": "Give a volume driver name such as 'local'."},
    )
    driver_opts = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=4096),
        required=False,
        help_text="Options for the driver; for 'local': type, device, o.",
    )
    labels = LabelsField(required=False)


class VolumeDeleteQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)
