"""Tunnels as the API shows them: never with their secrets."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..models import Provider, Runner, TunnelConfig
from ..ssh import private_key_problem, valid_host_key

HOSTNAME = r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"  # noqa: E501
PRIVATE_KEY = "-----BEGIN "
CLOUDFLARE_ID = r"^[0-9a-fA-F]{32}$"


class TunnelSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, default="")
    environment = serializers.CharField(source="environment.name", read_only=True)
    secrets_set = serializers.SerializerMethodField()

    class Meta:
        model = TunnelConfig
        fields = [
            "id",
            "name",
            "provider",
            "runner",
            "environment",
            "container_id",
            "container_name",
            "target_port",
            "hostname",
            "options",
            "secrets_set",
            "status",
            "status_reason",
            "public_url",
            "created_at_provider",
            "from_labels",
            "owner",
            "started_at",
            "restarts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_secrets_set(self, tunnel: TunnelConfig) -> bool:
        return bool(tunnel.secrets_sealed)


class OptionsSerializer(StrictSerializer):
    """Provider settings that are no secret."""

    host = serializers.RegexField(HOSTNAME, required=False)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    # Never starting with "-": ssh must not read the name as an option.
    user = serializers.RegexField(
        r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$",
        required=False,
        error_messages={"invalid": "Give a user name of letters, digits, . _ -."},
    )
    host_key = serializers.CharField(max_length=4096, required=False)
    remote_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    remote_bind = serializers.IPAddressField(required=False)
    # Cloudflare's account and zone ids are 32 hexadecimal digits.
    account_id = serializers.RegexField(
        CLOUDFLARE_ID,
        required=False,
        error_messages={"invalid": "Give the account id: 32 hexadecimal digits."},
    )
    zone_id = serializers.RegexField(
        CLOUDFLARE_ID,
        required=False,
        error_messages={"invalid": "Give the zone id: 32 hexadecimal digits."},
    )

    def validate_host_key(self, value: str) -> str:
        if not valid_host_key(value):
            raise serializers.ValidationError(
                "Give the server's host key fingerprint (SHA256:...) or its public "
                "key line (ssh-ed25519 AAAA...), as its administrator reads it."
            )
        return value.strip()


class TunnelWriteSerializer(StrictSerializer):
    name = serializers.SlugField(max_length=64)
    provider = serializers.ChoiceField(choices=Provider.choices)
    runner = serializers.ChoiceField(choices=Runner.choices, required=False)
    environment = serializers.CharField(max_length=255, required=False)
    container = serializers.CharField(max_length=255)
    target_port = serializers.IntegerField(min_value=1, max_value=65535)
    hostname = serializers.RegexField(HOSTNAME, required=False, allow_blank=True)
    options = OptionsSerializer(required=False)
    token = serializers.CharField(
        max_length=4096, write_only=True, required=False, trim_whitespace=False
    )
    private_key = serializers.CharField(
        max_length=16384, write_only=True, required=False, trim_whitespace=False
    )

    def validate_private_key(self, value: str) -> str:
        if PRIVATE_KEY not in value or "PRIVATE KEY-----" not in value:
            raise serializers.ValidationError(
                "Give the whole private key file, from '-----BEGIN' to its END "
                "line (a key without a passphrase)."
            )
        problem = private_key_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.strip() + "\n"

    def validate_options(self, value: dict[str, Any]) -> dict[str, Any]:
        return dict(value)


class TunnelUpdateSerializer(TunnelWriteSerializer):
    """What may change after creation: not the provider, target or place."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        for name in ("provider", "environment", "container"):
            fields.pop(name)
        return fields


class TunnelStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField()
    public_url = serializers.CharField()
    process_alive = serializers.BooleanField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    restarts = serializers.IntegerField()
    failures = serializers.IntegerField()
    next_restart_at = serializers.DateTimeField(allow_null=True)


class TunnelLogsSerializer(serializers.Serializer):
    lines = serializers.ListField(child=serializers.CharField())


class TunnelLogsQuerySerializer(StrictSerializer):
    lines = serializers.IntegerField(min_value=1, max_value=2000, default=200)
