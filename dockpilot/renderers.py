"""A JSON renderer on orjson: container lists are large, and stdlib json slow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_fallback = JSONEncoder()


def _default(value: Any) -> Any:
    # Lazy translation strings, Decimals and the like: what DRF's own
    # encoder knows how to turn into JSON.
    return _fallback.default(value)


def render_json(data: Any) -> bytes:
    """JSON bytes of ``data``, as every API answer is rendered."""
    return orjson.dumps(
        data, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
    )


class FastJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return render_json(data)
