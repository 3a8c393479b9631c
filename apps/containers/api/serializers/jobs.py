"""Input of the pull, build and prune endpoints. Unknown fields are refused."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from dockpilot.errors import BadRequest
from dockpilot.serializers import StrictSerializer

from ...references import parse_reference
from .images import LABEL_HELP

PLATFORM_PATTERN = r"^[a-z0-9_-]+/[a-z0-9_-]+(/[a-z0-9_.-]+)?$"
PLATFORM_ERRORS: dict[str, Any] = {
    "invalid": "Use os/arch[/variant], e.g. linux/amd64."
}
UNTIL_ERRORS: dict[str, Any] = {
    "invalid": "Use a duration such as 24h, or a timestamp."
}
# Go durations ("24h", "90m"), Unix timestamps or RFC 3339 times.
UNTIL_PATTERN = r"^(\d+(\.\d+)?[hms])+$|^\d+$|^\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?$"


class PullSerializer(StrictSerializer):
    image = serializers.CharField(
        max_length=512, help_text="Reference; without tag or digest, ':latest'."
    )
    platform = serializers.RegexField(
        PLATFORM_PATTERN, required=False, default="", error_messages=PLATFORM_ERRORS
    )
    credential = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of one of your registry credentials.",
    )

    def validate_image(self, value: str) -> str:
        parse_reference(value)
        return value


class JSONOrDictField(serializers.DictField):
    """A mapping given as JSON object, or as a JSON string in a form upload."""

    def get_value(self, dictionary: Any) -> Any:
        # DictField reads a form as "labels.key=value" fields and would drop
        # a plain "labels" field holding JSON; take that field as it is.
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.get(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError as exc:
                raise serializers.ValidationError("Give a JSON object.") from exc
        return super().to_internal_value(data)


class BuildSerializer(StrictSerializer):
    dockerfile = serializers.CharField(
        required=False,
        default="",
        max_length=1_000_000,
        trim_whitespace=False,
        help_text="Dockerfile text; with a context upload, it replaces the "
        "context's Dockerfile.",
    )
    dockerfile_path = serializers.CharField(
        required=False, default="Dockerfile", max_length=512
    )
    context = serializers.FileField(  # type: ignore[assignment]
        required=False,
        allow_null=True,
        default=None,
        help_text="tar, tar.gz or zip of the build context (multipart upload).",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=512),
        required=False,
        default=list,
        max_length=32,
    )
    build_args = JSONOrDictField(
        child=serializers.CharField(allow_blank=True, max_length=65536),
        required=False,
        default=dict,
    )
    labels = JSONOrDictField(
        child=serializers.CharField(allow_blank=True, max_length=4096),
        required=False,
        default=dict,
    )
    target = serializers.CharField(required=False, default="", max_length=128)
    no_cache = serializers.BooleanField(required=False, default=False)
    pull = serializers.BooleanField(required=False, default=False)
    platform = serializers.RegexField(
        PLATFORM_PATTERN, required=False, default="", error_messages=PLATFORM_ERRORS
    )

    def validate_tags(self, value: list[str]) -> list[str]:
        tags = []
        for index, text in enumerate(value):
            reference = parse_reference(text, field=f"tags[{index}]")
            if reference.digest:
                raise BadRequest(
                    f"tags[{index}]: '{text}' has a digest; a build can only be "
                    "tagged, the digest comes from a push.",
                    details={"field": "tags"},
                )
            tags.append(str(reference))
        return tags

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("dockerfile") and attrs.get("context") is None:
            raise BadRequest(
                "dockerfile: give the Dockerfile text, or upload a context "
                "(tar, tar.gz or zip) as 'context'.",
                details={"field": "dockerfile"},
            )
        return attrs


class PruneJobSerializer(StrictSerializer):
    what = serializers.ChoiceField(
        choices=["containers", "images", "volumes", "networks", "build_cache"]
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=512),
        required=False,
        default=list,
        max_length=32,
        help_text=LABEL_HELP,
    )
    all = serializers.BooleanField(
        default=False,
        help_text="Images: also unused tagged ones. Build cache: every kind.",
    )
    until = serializers.RegexField(
        UNTIL_PATTERN,
        required=False,
        default="",
        max_length=64,
        error_messages=UNTIL_ERRORS,
    )
