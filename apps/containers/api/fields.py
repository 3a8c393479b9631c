"""Serializer fields for Docker values: names, sizes, commands, env."""

from __future__ import annotations

import re
import shlex
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..references import parse_reference

NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$"
NAME_HELP = "Use letters, digits, '_', '.' and '-', starting with a letter or digit."
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MAX_BYTES = 1024**5  # 1 PiB: far above any host, far below the engine's int64
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class DockerNameField(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NAME_PATTERN, error_messages={"invalid": NAME_HELP}, **kwargs)


class ImageReferenceField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        parse_reference(text, field=self.field_name or "image")
        return text


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class CommandField(serializers.Field):
    """A command as a list of arguments, or a string split like a shell would."""

    default_error_messages = {"invalid": "Give a list of strings or one string."}

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            try:
                return shlex.split(data)
            except ValueError as exc:
                raise serializers.ValidationError(
                    f"Cannot split the command: {exc}."
                ) from exc
        if isinstance(data, list) and all(isinstance(item, str) for item in data):
            return data
        self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "array", "items": {"type": "string", "example": "NAME=value"}},
        ]
    }
)
class EnvField(serializers.Field):
    """Environment as {"NAME": "value"} or ["NAME=value"]; stored as a list."""

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, dict):
            pairs = [(str(k), "" if v is None else str(v)) for k, v in data.items()]
        elif isinstance(data, list) and all(isinstance(item, str) for item in data):
            pairs = [
                tuple(item.split("=", 1)) if "=" in item else (item, "")
                for item in data
            ]  # type: ignore[misc]
        else:
            raise serializers.ValidationError(
                'Give an object {"NAME": "value"} or a list ["NAME=value"].'
            )
        for name, _ in pairs:
            if not _ENV_NAME.match(name):
                raise serializers.ValidationError(
                    f"'{name}' is not a valid variable name."
                )
        return [f"{name}={value}" for name, value in pairs]

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string", "example": "512m"}]}
)
class ByteSizeField(serializers.Field):
    """A size in bytes, given as a number or as text such as '512m' or '1g'."""

    def __init__(self, minimum: int = 0, **kwargs: Any) -> None:
        self.minimum = minimum
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            raise serializers.ValidationError(
                "Give a size such as 536870912 or '512m'."
            )
        if isinstance(data, int):
            size = data
        elif isinstance(data, str) and (match := _SIZE.match(data.strip())):
            size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
        else:
            raise serializers.ValidationError(
                "Give a size such as 536870912 or '512m'."
            )
        if size < self.minimum:
            raise serializers.ValidationError(f"At least {self.minimum} bytes.")
        if size > MAX_BYTES:
            raise serializers.ValidationError("At most 1 PiB.")
        return size

    def to_representation(self, value: Any) -> Any:
        return value


class LabelsField(serializers.DictField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.CharField(allow_blank=True, max_length=4096), **kwargs
        )
