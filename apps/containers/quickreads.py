"""Container reads answered before Django, when nothing they need is unknown.

Pages poll the container list, a container's inspect and its log, and
scripts loop over them. Through Django and DRF an authenticated read
spends about 2 ms of the web process's time (middleware, DRF's request,
routing, a hand-off to a request thread) before the engine is even asked,
which answers an inspect in 0.4 ms. So ``respond`` answers
``GET /api/v1/containers/``, ``GET /api/v1/containers/<id>/`` and
``GET /api/v1/containers/<id>/logs/`` itself, on the event loop, when
everything the answer depends on is already known in this process:

- the request's JWT and its user passed every check of the full
  authentication in the last seconds (``authentication.known_bearer_user``);
- its environment row is cached and its engine is on a local socket;
- its query holds only parameters read here, each one valid (the list's
  filters are left to the full path; its pages come from the API's own
  paginator).

The access decision is the full path's. An admin's needs no query: admins
see every container in every environment, whole. Anyone else's is taken
on a request thread by the same functions the view calls. An admin's
inspect document may come from ``documentcache`` (kept for a moment while
the engine's events say nothing changed), and the log of a running
container from ``logtails`` (its last entries, kept while the engine
streams them).

Whenever anything is not known or goes wrong (a cache miss, a personal API
token, a session cookie, an engine error, a container the user may not
see), ``respond`` returns False and Django answers exactly as without this
module, filling the caches for the next request. Nothing here refuses
anything itself. The one error answered here is an engine that cannot be
reached or stops answering: the same 503 the full path would give, rather
than a second wait for it. Switched off with ``DOCKPILOT_QUICK_READS=false``.
"""

from __future__ import annotations

import asyncio
import copy
import io
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from rest_framework.exceptions import APIException
from rest_framework.fields import BooleanField
from rest_framework.request import Request

from apps.accounts import access
from apps.accounts.authentication import known_bearer_user
from apps.accounts.models import User
from apps.compose.services.masking import hide_in_list
from dockpilot import handler, middleware
from dockpilot.errors import EngineUnavailable, PortalError, error_body
from dockpilot.pagination import Pagination
from dockpilot.renderers import render_json

from . import asyncreads, documentcache, logtails
from .api.serializers.containers import LogsQuerySerializer
from .engine import Engine, _unavailable, engine_for
from .environments import cached_environment
from .models import Environment
from .services import containers as service

logger = logging.getLogger("dockpilot.containers.quickreads")

_NAME = r"(?P<ident>(?!\.\.?/)[^/]+)"
_INSPECT = re.compile(rf"^/api/v1/containers/{_NAME}/$")
_LOGS = re.compile(rf"^/api/v1/containers/{_NAME}/logs/$")

# The Allow header the full path sends on each route.
_ALLOW_INSPECT = b"GET, DELETE, HEAD, OPTIONS"
_ALLOW_LOGS = b"GET, HEAD, OPTIONS"
_ALLOW_LIST = b"GET, POST, HEAD, OPTIONS"

_TRUE = {str(value) for value in BooleanField.TRUE_VALUES}
_FALSE = {str(value) for value in BooleanField.FALSE_VALUES}
_DIGITS = re.compile(r"^[0-9]{1,9}$")
# The log query's defaults and bounds, as the full path's serializer has them.
_LOG_FIELDS = LogsQuerySerializer().fields
_MAX_TAIL = int(_LOG_FIELDS["tail"].max_value)  # type: ignore[attr-defined]
_LOG_DEFAULTS = {
    name: _LOG_FIELDS[name].default
    for name in ("tail", "timestamps", "stdout", "stderr")
}

Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[..., Awaitable[bytes | None]]


class _Request:
    """What the quick path reads of an ASGI request."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope
        self.headers: dict[bytes, bytes] = {}
        self.repeated = False
        for name, value in scope.get("headers", ()):
            if name in self.headers:
                self.repeated = True
            self.headers[name] = value

    def header(self, name: bytes) -> str:
        return self.headers.get(name, b"").decode("latin-1")

    def query(self) -> dict[str, str] | None:
        """The query as a dict; None when a name repeats or it is not ASCII."""
        raw = self.scope.get("query_string", b"")
        if not raw.isascii():
            return None
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True)
        query = dict(pairs)
        return query if len(query) == len(pairs) else None


async def respond(scope: dict[str, Any], send: Send) -> bool:
    """Answer a container list, inspect or log read if all it needs is known.

    Returns False, having sent nothing, when Django must answer instead.
    """
    if not settings.QUICK_READS or scope.get("method") != "GET":
        return False
    route = _route(scope.get("path", ""))
    if route is None:
        return False
    handler, ident, allow = route

    request = _Request(scope)
    user = _known_user(request)
    query = request.query()
    if user is None or query is None:
        return False
    environment = cached_environment(query.pop("environment", None))
    if environment is None:
        return False
    engine = engine_for(environment)
    if engine._version is None or not _plain_json_request(request):
        return False

    try:
        body = await handler(_Read(request, user, environment, ident, query))
    except TimeoutError as exc:
        error: PortalError = _unavailable(engine, exc)
    except EngineUnavailable as exc:
        error = exc
    else:
        if body is None:
            return False
        await _send(request, send, 200, body, allow)
        return True
    await _send(request, send, error.status_code, render_json(error_body(error)), allow)
    return True


def _route(path: str) -> tuple[Handler, str, bytes] | None:
    if path == "/api/v1/containers/":
        return _list, "", _ALLOW_LIST
    if match := _INSPECT.match(path):
        return _inspect, match["ident"], _ALLOW_INSPECT
    if match := _LOGS.match(path):
        return _logs, match["ident"], _ALLOW_LOGS
    return None


def _known_user(request: _Request) -> User | None:
    # A repeated header, or cookies next to the token (the session then
    # adds its own headers), are for the full path to sort out.
    if request.repeated or b"cookie" in request.headers:
        return None
    authorization = request.headers.get(b"authorization")
    if not authorization:
        return None
    return known_bearer_user(authorization)


def _plain_json_request(request: _Request) -> bool:
    """Whether the full path would answer this request with plain JSON.

    Not when it would refuse the Host (400), redirect to HTTPS (301), or
    negotiate another media type or JSON with parameters (406, or another
    Content-Type).
    """
    domain, _port = split_domain_port(request.header(b"host"))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    if settings.SECURE_SSL_REDIRECT and not _is_secure(request):
        return False
    return request.header(b"accept").strip() in _PLAIN_ACCEPT


# Accept headers DRF answers with plain application/json (no header at all
# is what scripts send most; curl and most HTTP libraries send */*).
_PLAIN_ACCEPT = {"", "*/*", "application/json"}


# The reads ------------------------------------------------------------------


@dataclass
class _Read:
    """One request the quick path may answer, and what it knows of it."""

    request: _Request
    user: User
    environment: Environment
    ident: str
    query: dict[str, str]

    async def as_user(
        self, function: Callable[..., bytes | None], *args: Any
    ) -> bytes | None:
        """``function(user, environment, *args)`` on a request thread."""
        mine = copy.copy(self.user)  # the kept user is shared: a thread gets its own
        return await _on_request_thread(function, mine, self.environment, *args)


async def _inspect(read: _Read) -> bytes | None:
    if read.query:
        return None
    if not access.is_admin(read.user):
        return await read.as_user(_inspect_as_user, read.ident)
    found = await _document(engine_for(read.environment), read.ident)
    if found is None:
        return None
    # An admin may change every container: the document is shown whole, as
    # ``service.inspect_for`` shows it to them.
    return found[1]


async def _logs(read: _Read) -> bytes | None:
    options = _logs_options(read.query)
    if options is None:
        return None
    if not access.is_admin(read.user):
        return await read.as_user(_logs_as_user, read.ident, options)
    engine = engine_for(read.environment)
    found = await _document(engine, read.ident)
    if found is None:
        return None
    target = access.engine_id_of("container", found[0])
    timestamps = options["timestamps"]

    def render(data: bytes) -> bytes:
        return render_json(service.logs_document(target, data, timestamps=timestamps))

    kept = await _kept_log(engine, found[0], options, render)
    if kept is not None:
        return kept
    data = await asyncreads.engine_get(
        engine, f"/containers/{target}/logs", service.logs_params(**options)
    )
    return None if data is None else render(data)


async def _kept_log(
    engine: Engine,
    document: dict[str, Any],
    options: dict[str, Any],
    render: Callable[[bytes], bytes],
) -> bytes | None:
    """This read's answer from a kept tail, and keep one if none."""
    if not (options["stdout"] and options["stderr"] and logtails.keepable(document)):
        return None
    tails = logtails.kept_for(engine)
    container = str(document["Id"])
    answer = await tails.answer(
        engine, container, options["tail"], options["timestamps"], render
    )
    if answer is None:
        tails.follow(engine, container)
    return answer


async def _list(read: _Read) -> bytes | None:
    options = _list_options(read.query)
    if options is None:
        return None
    if not access.is_admin(read.user):
        return await read.as_user(_list_as_user, read.request.scope, options)
    params = service.list_params(all=options["all"])
    engine = engine_for(read.environment)
    # A list answer (600 KB for 1,000 containers) comes in many small
    # writes: read on a thread, it costs one wake-up of the event loop
    # instead of one for each, about 3 ms less under Daphne.
    try:
        data = await asyncio.to_thread(
            engine.get_bytes, "/containers/json", params=params
        )
    except EngineUnavailable:
        raise
    except PortalError:
        return None
    return _admin_page(read.request.scope, data)


# The last admin page rendered, and what it was rendered from.
_last_page: tuple[tuple[Any, ...], bytes] | None = None


def _admin_page(scope: dict[str, Any], data: bytes) -> bytes | None:
    """An admin's page of the engine's list answer ``data``.

    Every entry is shown whole: an admin sees every container and may
    change every project (``visible_only`` and ``hide_in_list`` give them
    all). The page depends only on the engine's bytes and on the request
    (its query, and its headers for the links), so when both are the same
    as for the last page, that page is the answer: a script polling an
    unchanged list skips shaping and rendering it (about 1.7 ms for 1,000).
    """
    global _last_page
    key = (
        data,
        scope["path"],
        scope["query_string"],
        tuple(scope["headers"]),
        scope.get("scheme"),
        scope.get("server"),
    )
    last = _last_page
    if last is not None and last[0] == key:
        return last[1]
    body = _page(scope, service.shared_summaries_of(data))
    if body is not None:
        _last_page = (key, body)
    return body


def _list_options(query: dict[str, str]) -> dict[str, Any] | None:
    """``ListQuerySerializer``'s answer when only ``all`` is given; else None."""
    options: dict[str, Any] = {"all": True}
    for name, value in query.items():
        if name == "all" and value in _TRUE | _FALSE:
            options["all"] = value in _TRUE
        elif name not in ("page", "page_size"):
            return None  # a filter: the full path reads it
    return options


def _page(scope: dict[str, Any], items: list[dict[str, Any]]) -> bytes | None:
    """The page the API's paginator gives, rendered; None when it refuses."""
    drf_request = Request(ASGIRequest(scope, io.BytesIO()))
    paginator = Pagination()
    try:
        page = paginator.paginate_queryset(items, drf_request)  # type: ignore[arg-type]
    except APIException:
        return None  # a page that does not exist: the full path says so
    return render_json(paginator.get_paginated_response(page).data)


def _logs_options(query: dict[str, str]) -> dict[str, Any] | None:
    """``LogsQuerySerializer``'s answer for the queries it reads alike; else None."""
    options = dict(_LOG_DEFAULTS)
    for name, value in query.items():
        if name == "tail" and _DIGITS.match(value) and int(value) <= _MAX_TAIL:
            options["tail"] = int(value)
        elif name in ("timestamps", "stdout", "stderr") and value in _TRUE | _FALSE:
            options[name] = value in _TRUE
        else:
            return None  # since, until, an unknown name, a value to refuse
    if not (options["stdout"] or options["stderr"]):
        return None
    return options


async def _document(engine: Engine, ident: str) -> tuple[dict[str, Any], bytes] | None:
    """The container's inspect document, kept or read, and its rendering.

    The document may be shared with other requests: never to be changed.
    """
    kept = documentcache.kept_for(engine)
    kept.ensure_followed(engine)
    hit = kept.get(ident)
    if hit is not None:
        return hit.document, hit.body

    since = kept.generation
    path = f"/containers/{quote(ident, safe='')}/json"
    data = await asyncreads.engine_get(engine, path, {})
    if data is None:
        return None
    document = orjson.loads(data)
    body = render_json(document)
    kept.keep(ident, document, body, since)
    return document, body


# Users other than admins: the full path's decision, on a request thread.


def _inspect_as_user(user: User, environment: Environment, ident: str) -> bytes:
    document = access.check_inspected(user, environment, "container", ident, "view")
    return render_json(service.inspect_for(user, environment, document))


def _list_as_user(
    user: User,
    environment: Environment,
    scope: dict[str, Any],
    options: dict[str, Any],
) -> bytes | None:
    access.require_environment(user, environment, "view")
    items = service.list_containers(environment, all=options["all"])
    visible = access.filter_visible(user, environment, "container", items)
    return _page(scope, hide_in_list(user, environment, visible))


def _logs_as_user(
    user: User, environment: Environment, ident: str, options: dict[str, Any]
) -> bytes:
    document = access.check_inspected(user, environment, "container", ident, "view")
    target = access.engine_id_of("container", document)
    return render_json(service.container_logs(environment, target, **options))


async def _on_request_thread(
    function: Callable[..., bytes | None], *args: Any
) -> bytes | None:
    """Run ``function`` as a view runs; None if it raised (Django then answers)."""
    thread = handler.take_thread()
    try:
        future = thread.submit(_as_a_request, function, args)
        return await asyncio.wrap_future(future)
    except EngineUnavailable:
        raise  # answered as is: the full path would only wait for it again
    except APIException:
        return None  # refused or not found: the full path says so, worded alike
    except Exception:
        logger.exception("quick read failed; the full path answers instead")
        return None
    finally:
        handler.give_back_thread(thread)


def _as_a_request(
    function: Callable[..., bytes | None], args: tuple[Any, ...]
) -> bytes | None:
    # As Django does around each request: drop a database connection that
    # broke or outlived CONN_MAX_AGE, before and after.
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


# Answers --------------------------------------------------------------------


async def _send(
    request: _Request, send: Send, status: int, body: bytes, allow: bytes
) -> None:
    headers = _headers(request, allow)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(request: _Request, allow: bytes) -> list[tuple[bytes, bytes]]:
    """The headers Django's middleware and DRF put on an API answer.

    As set by RequestIdMiddleware, LocaleMiddleware, XFrameOptionsMiddleware
    and SecurityMiddleware (each from the same settings), and DRF's Allow.
    The tests compare them with the full path's, under dev and prod settings.
    """
    request_id = middleware.request_id_for(request.header(b"x-request-id"))
    headers = [
        (b"content-type", b"application/json"),
        (b"x-frame-options", str(settings.X_FRAME_OPTIONS).upper().encode()),
        (b"vary", b"Accept-Language"),
        (b"content-language", _language(request).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    if settings.SECURE_HSTS_SECONDS and _is_secure(request):
        headers.append((b"strict-transport-security", _hsts()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append((b"referrer-policy", policy.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        coop = str(settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
        headers.append((b"cross-origin-opener-policy", coop.encode()))
    headers.append((b"allow", allow))
    return headers


def _hsts() -> bytes:
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value.encode()


def _is_secure(request: _Request) -> bool:
    """``HttpRequest.is_secure()``: the proxy's header when one is configured."""
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        meta_name, secure_value = proxy_header
        for name, value in request.headers.items():
            meta = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
            if meta == meta_name:
                scheme = value.decode("latin-1").split(",", 1)[0].strip()
                return bool(scheme == secure_value)
    return bool(request.scope.get("scheme") == "https")


def _language(request: _Request) -> str:
    # LocaleMiddleware's choice. Its language cookie is never here: a request
    # with cookies goes to the full path (``_known_user``).
    meta = {"HTTP_ACCEPT_LANGUAGE": request.header(b"accept-language")}
    fake = SimpleNamespace(COOKIES={}, META=meta)
    return str(translation.get_language_from_request(fake))  # type: ignore[arg-type]
