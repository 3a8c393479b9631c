"""Input of the container endpoints. Unknown fields are refused."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..fields import (
    ByteSizeField,
    CommandField,
    DockerNameField,
    EnvField,
    ImageReferenceField,
    LabelsField,
)

PROTOCOLS = ["tcp", "udp", "sctp"]
RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"]


class PortSerializer(StrictSerializer):
    container_port = serializers.IntegerField(min_value=1, max_value=65535)
    protocol = serializers.ChoiceField(PROTOCOLS, default="tcp")
    host_port = serializers.IntegerField(
        min_value=0, max_value=65535, required=False, allow_null=True
    )
    host_ip = serializers.IPAddressField(required=False, allow_blank=True)


class VolumeMountSerializer(StrictSerializer):
    # The names shadow attributes of DRF's Field, which the metaclass removes.
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=4096,
        help_text="A volume name, or an absolute host path (admins only).",
    )
    target = serializers.RegexField(
        r"^/",
        max_length=4096,
        error_messages={"invalid": "The path inside the container must be absolute."},
    )
    read_only = serializers.BooleanField(default=False)  # type: ignore[assignment]

    def validate_source(self, value: str) -> str:
        if value.startswith("/"):
            user = self.context["request"].user
            if not user.is_admin:
                raise serializers.ValidationError(
                    "Host paths can be mounted by admins only; use a named volume."
                )
            return value
        DockerNameField().run_validation(value)
        return value


class RestartPolicySerializer(StrictSerializer):
    name = serializers.ChoiceField(RESTART_POLICIES)
    maximum_retry_count = serializers.IntegerField(min_value=0, default=0)


class ContainerCreateSerializer(StrictSerializer):
    image = ImageReferenceField(max_length=512)
    name = DockerNameField(required=False)
    command = CommandField(required=False)
    entrypoint = CommandField(required=False)
    env = EnvField(required=False)
    ports = PortSerializer(many=True, required=False)
    volumes = VolumeMountSerializer(many=True, required=False)
    labels = LabelsField(required=False)
    restart_policy = RestartPolicySerializer(required=False)
    memory = ByteSizeField(minimum=6 * 1024 * 1024, required=False)
    cpus = serializers.FloatField(min_value=0.01, max_value=1024, required=False)
    network = DockerNameField(required=False)
    working_dir = serializers.RegexField(
        r"^/",
        required=False,
        error_messages={"invalid": "The working directory must be an absolute path."},
    )
    user = serializers.RegexField(
        r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$", required=False
    )
    hostname = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$", required=False
    )
    tty = serializers.BooleanField(default=False)
    stdin_open = serializers.BooleanField(default=False)
    start = serializers.BooleanField(
        default=False, help_text="Start the container once created."
    )

    def validate_network(self, value: str) -> str:
        # The host's network stack is outside the container: admins only.
        if value == "host" and not self.context["request"].user.is_admin:
            raise serializers.ValidationError(
                "The host network is for admins only; use a bridge network."
            )
        return value


class StopSerializer(StrictSerializer):
    timeout = serializers.IntegerField(min_value=0, max_value=600, default=10)


class KillSerializer(StrictSerializer):
    signal = serializers.RegexField(
        r"^(SIG)?[A-Z0-9+-]{1,16}$|^\d{1,2}$",
        default="SIGKILL",
        error_messages={"invalid": "Give a signal such as SIGTERM or 15."},
    )


class RenameSerializer(StrictSerializer):
    name = DockerNameField()


class ListQuerySerializer(serializers.Serializer):
    all = serializers.BooleanField(default=True)
    name = serializers.CharField(required=False, max_length=256)
    status = serializers.ChoiceField(
        ["created", "restarting", "running", "removing", "paused", "exited", "dead"],
        required=False,
    )
    image = serializers.CharField(required=False, max_length=512)


class LogsQuerySerializer(serializers.Serializer):
    tail = serializers.IntegerField(min_value=0, max_value=10000, default=100)
    since = serializers.CharField(required=False)
    until = serializers.CharField(required=False)
    timestamps = serializers.BooleanField(default=False)
    stdout = serializers.BooleanField(default=True)
    stderr = serializers.BooleanField(default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["stdout"] and not attrs["stderr"]:
            raise serializers.ValidationError(
                {"stdout": ["Ask for stdout, stderr or both."]}
            )
        return attrs


class DeleteQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)
    volumes = serializers.BooleanField(default=False)
