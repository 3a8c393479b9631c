"""Input of the network endpoints. Unknown body fields are refused."""

from __future__ import annotations

import ipaddress
from typing import Any

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..fields import NAME_HELP, NAME_PATTERN, DockerNameField, LabelsField

DRIVER_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_./:-]{0,127}$"
ALIAS_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: str) -> Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            base = ipaddress.ip_network(value, strict=False)
            raise serializers.ValidationError(
                f"'{value}' has host bits set; use {base}."
            ) from exc
        raise serializers.ValidationError(
            f"'{value}' is not a subnet; give one in CIDR form such as 10.213.0.0/24."
        ) from exc


class NetworkListQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255)
    driver = serializers.CharField(required=False, max_length=128)


class NetworkCreateSerializer(StrictSerializer):
    name = DockerNameField()
    driver = serializers.RegexField(
        DRIVER_PATTERN,
        default="bridge",
        error_messages={"invalid": "Give a network driver name such as 'bridge'."},
    )
    subnet = serializers.CharField(required=False, max_length=64)
    gateway = serializers.CharField(required=False, max_length=64)
    ip_range = serializers.CharField(required=False, max_length=64)
    internal = serializers.BooleanField(default=False)
    enable_ipv6 = serializers.BooleanField(default=False)
    attachable = serializers.BooleanField(default=False)
    labels = LabelsField(required=False)

    def validate_subnet(self, value: str) -> str:
        return str(_network(value))

    def validate_ip_range(self, value: str) -> str:
        return str(_network(value))

    def validate_gateway(self, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise serializers.ValidationError(
                f"'{value}' is not an IP address; give one such as 10.213.0.1."
            ) from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        subnet = attrs.get("subnet")
        if subnet is None:
            for field in ("gateway", "ip_range"):
                if field in attrs:
                    raise serializers.ValidationError(
                        {field: [f"Give a subnet to set {field} in."]}
                    )
            return attrs
        _check_within(attrs, ipaddress.ip_network(subnet))
        return attrs


def _check_within(attrs: dict[str, Any], subnet: Network) -> None:
    gateway = attrs.get("gateway")
    if gateway and ipaddress.ip_address(gateway) not in subnet:
        raise serializers.ValidationError(
            {
                "gateway": [
                    f"{gateway} is outside the subnet {subnet}; pick an "
                    "address inside it."
                ]
            }
        )

    ip_range = attrs.get("ip_range")
    if ip_range and not _inside(ipaddress.ip_network(ip_range), subnet):
        raise serializers.ValidationError(
            {"ip_range": [f"{ip_range} is not inside the subnet {subnet}."]}
        )

    if subnet.version == 6 and not attrs.get("enable_ipv6"):
        raise serializers.ValidationError(
            {"enable_ipv6": ["Set enable_ipv6 to true to use an IPv6 subnet."]}
        )


def _inside(inner: Network, outer: Network) -> bool:
    # subnet_of raises on mixed versions; a mixed pair is simply not inside.
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _container_field() -> serializers.RegexField:
    return serializers.RegexField(
        NAME_PATTERN,
        error_messages={"invalid": f"Give a container name or id. {NAME_HELP}"},
    )


class ConnectSerializer(StrictSerializer):
    container = _container_field()
    aliases = serializers.ListField(
        child=serializers.RegexField(
            ALIAS_PATTERN,
            error_messages={
                "invalid": "An alias is a host name: letters, digits, '_', '.', '-'."
            },
        ),
        required=False,
        max_length=32,
    )
    ipv4_address = serializers.IPAddressField(protocol="IPv4", required=False)


class DisconnectSerializer(StrictSerializer):
    container = _container_field()
    force = serializers.BooleanField(default=False)
