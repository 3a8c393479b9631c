"""Compose projects as the API shows and takes them.

The compose file and ``.env`` are taken and given back byte for byte
(``trim_whitespace=False``): ``$$`` and ``$`` in passwords survive a round
trip through an editor.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.accounts import access
from dockpilot.serializers import StrictSerializer

from ..envfile import masked_env
from ..models import ComposeProject
from ..services.operations import PULL_POLICIES, STOP_TIMEOUT_MAX
from ..validation import MAX_COMPOSE_BYTES


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        trim_whitespace=False, max_length=MAX_COMPOSE_BYTES, **kwargs
    )


class ComposeProjectSerializer(serializers.ModelSerializer):
    environment = serializers.CharField(source="environment.name", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    compose = serializers.CharField(source="compose_yaml", read_only=True)
    env = serializers.SerializerMethodField(
        help_text="The .env text; values masked for those who may not change it."
    )
    last_job = serializers.UUIDField(source="last_job_id", read_only=True)

    class Meta:
        model = ComposeProject
        fields = [
            "id",
            "name",
            "environment",
            "owner",
            "status",
            "services_state",
            "compose",
            "env",
            "project_directory",
            "adopted",
            "last_job",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_env(self, project: ComposeProject) -> str:
        # .env often holds passwords: shown to those who may change the
        # project, masked for those who may only look.
        user = self.context.get("user")
        if user is not None and access.allowed(user, project, "change"):
            return project.env_text
        return masked_env(project.env_text)


class ComposeProjectCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=63)
    compose = _text()
    env = _text(required=False, allow_blank=True, default="")


class ComposeProjectUpdateSerializer(StrictSerializer):
    compose = _text(required=False)
    env = _text(required=False, allow_blank=True)


class ComposeValidateSerializer(ComposeProjectUpdateSerializer):
    pass


def _names(field: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=128),
        required=False,
        default=list,
        max_length=100,
        help_text=f"{field} names",
    )


class ComposeUpSerializer(StrictSerializer):
    # Left out, each service's own pull_policy decides, as with the CLI.
    pull = serializers.ChoiceField(PULL_POLICIES, required=False)
    build = serializers.BooleanField(default=False)
    remove_orphans = serializers.BooleanField(default=False)
    force_recreate = serializers.BooleanField(default=False)
    services = _names("service")
    profiles = _names("profile")


class ComposeDownSerializer(StrictSerializer):
    remove_volumes = serializers.BooleanField(default=False)
    remove_images = serializers.ChoiceField(
        ["", "local", "all"], default="", allow_blank=True
    )
    remove_orphans = serializers.BooleanField(default=False)
    profiles = _names("profile")


class ComposeServicesSerializer(StrictSerializer):
    services = _names("service")
    profiles = _names("profile")


class ComposeStopSerializer(ComposeServicesSerializer):
    timeout = serializers.IntegerField(
        min_value=0, max_value=STOP_TIMEOUT_MAX, required=False
    )


class ComposeServiceStartSerializer(StrictSerializer):
    pass


class ComposeServiceStopSerializer(StrictSerializer):
    timeout = serializers.IntegerField(
        min_value=0, max_value=STOP_TIMEOUT_MAX, required=False
    )


class ComposeLogsQuerySerializer(serializers.Serializer):
    tail = serializers.IntegerField(min_value=0, max_value=10000, default=100)
    since = serializers.CharField(required=False)
    timestamps = serializers.BooleanField(default=False)
    services = serializers.CharField(
        required=False, default="", help_text="Comma-separated service names."
    )


class ComposeAdoptSerializer(StrictSerializer):
    compose = _text(required=False)
    env = _text(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, max_length=150)
