"""Form fields for what people type as text: key=value lines, ports, mounts.

Each field turns its text into the shape the REST serializers take, so a
page's input meets the same validation as an API request.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from django import forms
from django.utils.translation import gettext as _

PORT_LINE = re.compile(
    r"^(?:(?P<ip>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>\d+):)?"
    r"(?P<container>\d+)(?:/(?P<protocol>tcp|udp|sctp))?$"
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in _text(value).splitlines() if line.strip()]


class KeyValueField(forms.CharField):
    """``KEY=value`` per line, into a dict (labels) or a list (environment)."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, *, as_list: bool = False, **kwargs: Any) -> None:
        self.as_list = as_list
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        pairs: list[tuple[str, str]] = []
        for number, line in enumerate(_lines(text), start=1):
            key, sep, rest = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(
                    _("Line %d: write KEY=value, such as MODE=production.") % number
                )
            pairs.append((key.strip(), rest))
        if self.as_list:
            return [f"{key}={rest}" for key, rest in pairs]
        return dict(pairs)


class CommandField(forms.Field):
    """A command line, split as a shell would (quotes group words)."""

    def to_python(self, value: Any) -> list[str] | None:
        text = _text(value).strip()
        if not text:
            return None
        try:
            return shlex.split(text)
        except ValueError as exc:
            raise forms.ValidationError(_("%s: close the quote.") % exc) from exc


class PortsField(forms.Field):
    """``[ip:][host:]container[/protocol]`` per line, as ``docker run -p``."""

    widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        ports = []
        for number, line in enumerate(_lines(value), 1):
            match = PORT_LINE.match(line)
            if not match:
                raise forms.ValidationError(
                    _("Line %d: write 8080:80, 127.0.0.1:8080:80/tcp or 80.") % number
                )
            port: dict[str, Any] = {
                "container_port": int(match["container"]),
                "protocol": match["protocol"] or "tcp",
            }
            if match["host"]:
                port["host_port"] = int(match["host"])
            if match["ip"]:
                port["host_ip"] = match["ip"].strip("[]")
            ports.append(port)
        return ports


class VolumesField(forms.Field):
    """``volume:/path[:ro]`` per line, as ``docker run -v``."""

    widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        mounts = []
        for number, line in enumerate(_lines(value), 1):
            parts = line.split(":")
            if len(parts) not in (2, 3) or (
                len(parts) == 3 and parts[2] not in ("ro", "rw")
            ):
                raise forms.ValidationError(
                    _("Line %d: write volume:/path or volume:/path:ro.") % number
                )
            mounts.append(
                {
                    "source": parts[0],
                    "target": parts[1],
                    "read_only": len(parts) == 3 and parts[2] == "ro",
                }
            )
        return mounts
