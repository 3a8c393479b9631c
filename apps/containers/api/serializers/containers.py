"""Input of the container endpoints. Unknown fields are refused."""

from __future__ import annotations

import re
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
NETWORK_MODE_PATTERN = r"^(container:)?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$"
SYSCTL_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$")
RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"]


def _namespace_field(extra: str = "") -> serializers.RegexField:
    return serializers.RegexField(
        rf"^(host|container:[a-zA-Z0-9][a-zA-Z0-9_.-]{{0,127}}{extra})$",
        required=False,
        error_messages={"invalid": "Give host or container:<name>."},
    )


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
        help_text="A volume name, or an absolute host path (see the policy).",
    )
    target = serializers.RegexField(
        r"^/",
        max_length=4096,
        error_messages={"invalid": "The path inside the container must be absolute."},
    )
    read_only = serializers.BooleanField(default=False)  # type: ignore[assignment]

    def validate_source(self, value: str) -> str:
        # Host paths pass here and meet the security policy in the service.
        if not value.startswith("/"):
            DockerNameField().run_validation(value)
        return value


class MountSerializer(StrictSerializer):
    """One entry of the engine's ``Mounts``: a bind, a volume or a tmpfs."""

    type = serializers.ChoiceField(["bind", "volume", "tmpfs"], default="volume")
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=4096, required=False, allow_blank=True
    )
    target = serializers.RegexField(
        r"^/",
        max_length=4096,
        error_messages={"invalid": "The path inside the container must be absolute."},
    )
    read_only = serializers.BooleanField(default=False)  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        source = attrs.get("source", "")
        if attrs["type"] == "bind" and not source.startswith("/"):
            raise serializers.ValidationError(
                {"source": ["A bind mount needs an absolute host path."]}
            )
        if attrs["type"] == "volume" and source:
            DockerNameField().run_validation(source)
        if attrs["type"] == "tmpfs" and source:
            raise serializers.ValidationError(
                {"source": ["A tmpfs mount has no source; leave it out."]}
            )
        return attrs


class RestartPolicySerializer(StrictSerializer):
    name = serializers.ChoiceField(RESTART_POLICIES)
    maximum_retry_count = serializers.IntegerField(
        min_value=0, max_value=1_000_000, default=0
    )


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
    network = serializers.RegexField(
        NETWORK_MODE_PATTERN,
        required=False,
        error_messages={"invalid": "Give a network name, or container:<name>."},
    )
    pid_mode = _namespace_field()
    ipc_mode = _namespace_field(extra="|private|shareable|none")
    uts_mode = _namespace_field()
    userns_mode = _namespace_field()
    privileged = serializers.BooleanField(default=False)
    binds = serializers.ListField(
        child=serializers.RegexField(
            r"^[^:]+:/[^:]*(:[a-zA-Z,]+)?$",
            error_messages={"invalid": "Give source:/target or source:/target:ro."},
        ),
        required=False,
        max_length=64,
    )
    mounts = MountSerializer(many=True, required=False)
    cap_add = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z_]{1,64}$"),
        required=False,
        max_length=64,
    )
    devices = serializers.ListField(
        child=serializers.RegexField(
            r"^/[^:]+(:/[^:]+)?(:[rwm]{1,3})?$",
            error_messages={"invalid": "Give /dev/host[:/dev/container[:rwm]]."},
        ),
        required=False,
        max_length=64,
    )
    security_opt = serializers.ListField(
        child=serializers.CharField(max_length=512), required=False, max_length=64
    )
    sysctls = serializers.DictField(
        child=serializers.CharField(max_length=256), required=False
    )
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

    def validate_sysctls(self, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not SYSCTL_PATTERN.match(key):
                raise serializers.ValidationError(
                    f"'{key}' is not a sysctl name such as net.ipv4.ip_forward."
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
