"""The one place that talks to Docker engines.

It keeps one ``docker`` SDK client per environment (with timeouts and API
version negotiation) and turns engine errors into portal errors: not found
→ 404, conflict → 409 with the engine's reason, bad parameter → 400,
unreachable or timed out → 503 ``engine_unavailable``. Nothing else in the
project imports ``docker``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import orjson
import requests
from django.conf import settings
from docker import errors as docker_errors
from docker.api.client import APIClient

from dockpilot.errors import (
    BadRequest,
    Conflict,
    EngineUnavailable,
    NotFound,
    PortalError,
)

from .models import Environment

logger = logging.getLogger("dockpilot.containers.engine")

LOCAL_SOCKET = "unix:///var/run/docker.sock"


class EngineError(PortalError):
    """The engine failed on its side (HTTP 5xx) for a reason it explained."""

    status_code = 502
    default_code = "engine_error"


def endpoint_of(environment: Environment) -> str:
    return (
        environment.endpoint
        or settings.DOCKER_HOST
        or os.environ.get("DOCKER_HOST", "")
        or LOCAL_SOCKET
    )


class Engine:
    """A connection to one environment's engine, shared by every request."""

    def __init__(self, environment: Environment) -> None:
        self.environment_id = environment.pk
        self.environment_name = environment.name
        self.endpoint = endpoint_of(environment)
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        # Created lazily: with the engine down at start-up, the next request
        # tries again instead of the portal holding a dead client forever.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    @property
    def api(self) -> APIClient:
        return self.client.api

    def _connect(self) -> docker.DockerClient:
        with translate_errors(self):
            client = docker.DockerClient(
                base_url=self.endpoint,
                version="auto",
                timeout=settings.DOCKER_READ_TIMEOUT,
            )
        logger.info(
            "connected to engine %s at %s (API %s)",
            self.environment_name,
            self.endpoint,
            client.api.api_version,
        )
        return client

    def url(self, path: str, *args: str) -> str:
        return self.api._url(path, *args)

    def get_json(self, path: str, *args: str, params: Any = None) -> Any:
        """GET an engine path and decode it with orjson (lists are large)."""
        with translate_errors(self):
            response = self.api._get(self.url(path, *args), params=params)
            self.api._raise_for_status(response)
        return orjson.loads(response.content)

    def get_bytes(self, path: str, *args: str, params: Any = None) -> bytes:
        with translate_errors(self):
            response = self.api._get(self.url(path, *args), params=params)
            self.api._raise_for_status(response)
        return response.content

    def post(
        self,
        path: str,
        *args: str,
        params: Any = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        """POST and return the response; 304 (nothing to do) is left to the caller."""
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["json"] = json
        if timeout is not None:
            kwargs["timeout"] = timeout
        with translate_errors(self):
            response = self.api._post(self.url(path, *args), **kwargs)
            self.api._raise_for_status(response)
        return response

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an ``APIClient`` method with engine errors translated."""
        with translate_errors(self):
            return getattr(self.api, method)(*args, **kwargs)


_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(environment: Environment) -> Engine:
    key = (environment.pk, endpoint_of(environment))
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.setdefault(key, Engine(environment))
    return engine


def forget_engines() -> None:
    """Drop cached clients (tests, or after an environment's endpoint changed)."""
    with _engines_lock:
        for engine in _engines.values():
            if engine._client is not None:
                engine._client.close()
        _engines.clear()


def _plain_reason(exc: BaseException) -> str:
    """Say in a few words why a connection failed, from the root cause."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FileNotFoundError):
            return "no engine socket at that path"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, TimeoutError | requests.exceptions.Timeout):
            return "timed out"
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                current = arg
                break
        else:
            current = current.__cause__ or current.__context__
    return str(exc).split("(Caused by")[0].strip() or exc.__class__.__name__


def _unavailable(engine: Engine | None, exc: Exception) -> EngineUnavailable:
    where = f" at {engine.endpoint}" if engine else ""
    name = f" '{engine.environment_name}'" if engine else ""
    reason = _plain_reason(exc)
    logger.warning("engine%s%s unreachable: %s", name, where, reason)
    return EngineUnavailable(
        f"The Docker engine{name}{where} cannot be reached ({reason}). Start the "
        "engine or fix the environment's endpoint, then retry.",
        details={
            "environment": engine.environment_name if engine else None,
            "reason": reason,
        },
    )


_CONFLICT_TEXTS = (
    "port is already allocated",
    "address already in use",
    "is not paused",
)


def _from_api_error(exc: docker_errors.APIError) -> PortalError:
    status = exc.status_code or 500
    reason = (exc.explanation or str(exc)).strip()
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    if status == 404:
        return NotFound(reason)
    if status in (409, 403):
        # The engine answers 403 for "network has active endpoints" and for
        # removing a predefined network: both are conflicts with state.
        return Conflict(reason)
    if 400 <= status < 500:
        return BadRequest(reason, code="engine_refused")
    if any(text in reason for text in _CONFLICT_TEXTS):
        # A published port that is taken, or unpausing a container that is
        # not paused, comes back as a 500, yet the user can resolve it.
        return Conflict(reason)
    logger.warning("engine error %s: %s", status, reason)
    return EngineError(reason)


@contextmanager
def translate_errors(engine: Engine | None = None) -> Iterator[None]:
    """Turn SDK and transport errors into the portal's errors."""
    try:
        yield
    except docker_errors.APIError as exc:
        raise _from_api_error(exc) from exc
    except (docker_errors.InvalidArgument, docker_errors.InvalidVersion) as exc:
        raise BadRequest(str(exc), code="invalid_argument") from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise _unavailable(engine, exc) from exc
    except docker_errors.DockerException as exc:
        # Raised by the client constructor when /version cannot be fetched.
        raise _unavailable(engine, exc) from exc
