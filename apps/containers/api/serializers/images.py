"""Input of the image endpoints. Unknown body fields are refused."""

from __future__ import annotations

from rest_framework import serializers

from dockpilot.errors import BadRequest
from dockpilot.serializers import StrictSerializer

from ...references import parse_reference

TAG_PATTERN = r"^[\w][\w.-]{0,127}$"
LABEL_HELP = "Labels to match, each 'key' or 'key=value'."


class ImageListQuerySerializer(serializers.Serializer):
    dangling = serializers.BooleanField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, max_length=512)


class TagSerializer(StrictSerializer):
    repository = serializers.CharField(max_length=512)
    tag = serializers.RegexField(
        TAG_PATTERN,
        default="latest",
        error_messages={
            "invalid": "Use up to 128 letters, digits, '_', '.' and '-', "
            "not starting with '.' or '-'."
        },
    )

    def validate_repository(self, value: str) -> str:
        parsed = parse_reference(value, field="repository", default_tag=False)
        if parsed.tag or parsed.digest:
            raise BadRequest(
                f"repository: '{value}' includes a tag or digest; give the bare "
                "repository here and the tag in the 'tag' field.",
                details={"field": "repository"},
            )
        return value


class ImageDeleteQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)
    noprune = serializers.BooleanField(default=False)


class PruneSerializer(StrictSerializer):
    """Prunes of every kind: only what matches all ``labels`` goes."""

    labels = serializers.ListField(
        child=serializers.CharField(max_length=512),
        required=False,
        default=list,
        max_length=32,
        help_text=LABEL_HELP,
    )


class ImagePruneSerializer(PruneSerializer):
    all = serializers.BooleanField(
        default=False, help_text="Also delete unused images that have tags."
    )
