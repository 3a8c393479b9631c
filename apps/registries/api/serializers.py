"""Registry credentials as the API shows them: never with the secret."""

from __future__ import annotations

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..models import RegistryCredential

REGISTRY_PATTERN = r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$"


class CredentialSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = RegistryCredential
        fields = ["id", "name", "registry", "username", "owner", "created_at"]
        read_only_fields = fields


class CredentialWriteSerializer(StrictSerializer):
    name = serializers.SlugField(max_length=64)
    registry = serializers.RegexField(
        REGISTRY_PATTERN,
        max_length=255,
        error_messages={"invalid": "Give a host and optional port: host[:port]."},
    )
    username = serializers.CharField(max_length=255)
    secret = serializers.CharField(
        max_length=4096, write_only=True, trim_whitespace=False
    )
