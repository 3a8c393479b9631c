"""What request authentication looked up lately, kept a few seconds.

Every API request with a JWT needs its signature checked (PyJWT prepares
the key anew each time: 0.1 to 0.2 ms), its user row and whether its login
session ended at logout (two queries). These answers are kept in this
process for ``CACHE_SECONDS``; the user and the session's are dropped
whenever this process saves or deletes the user, or ends the session (also
again after the transaction commits).

- A checked token is kept under its exact text, and its expiry is checked
  again at each use: a token that does not match byte for byte is checked
  in full.

- A user is kept under the token's password digest: a password change gives
  new digests, so older tokens miss and are refused by the full check.
- Only answers that let a request in are kept: a refused token is looked up
  every time.
- Known window: a change made by another process (a second web replica, or
  ``manage.py shell``) reaches this one after at most ``CACHE_SECONDS``;
  changes through this process's API, pages or admin apply at once.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.db import transaction

from .models import EndedSession, User

CACHE_SECONDS = 5.0
# A bound on memory: when reached, everything is dropped and loaded again.
MAX_ENTRIES = 10_000

_tokens: dict[bytes, tuple[float, Any]] = {}
_users: dict[str, tuple[float, str, User]] = {}
_live_sessions: dict[str, float] = {}
_lock = threading.Lock()
# Bumped by every change: a lookup that started before a change does not
# store its (perhaps older) answer after it.
_generation = 0


def generation() -> int:
    return _generation


def cached_token(raw: bytes) -> Any:
    """A token whose signature was checked lately, or None; expiry not checked."""
    hit = _tokens.get(raw)
    if hit is None or hit[0] <= time.monotonic():
        return None
    return hit[1]


def remember_token(raw: bytes, token: Any) -> None:
    with _lock:
        if len(_tokens) >= MAX_ENTRIES:
            _tokens.clear()
        _tokens[raw] = (time.monotonic() + CACHE_SECONDS, token)


def cached_user(user_id: Any, digest: str, shared: bool = False) -> User | None:
    """The user of a token whose checks passed lately, as a copy, or None.

    With ``shared``, the kept object itself, for a caller that only reads it.
    """
    hit = _users.get(str(user_id))
    if hit is None or hit[0] <= time.monotonic() or hit[1] != digest:
        return None
    return hit[2] if shared else copy.copy(hit[2])


def remember_user(user_id: Any, digest: str, user: User, since: int) -> None:
    """Keep a user that passed every check of a token with ``digest``."""
    with _lock:
        if since != _generation:
            return
        if len(_users) >= MAX_ENTRIES:
            _users.clear()
        _users[str(user_id)] = (time.monotonic() + CACHE_SECONDS, digest, user)


def known_live(sid: str) -> bool:
    """Whether ``sid`` was found not ended lately, without asking the database."""
    return _live_sessions.get(sid, 0.0) > time.monotonic()


def session_ended(sid: str) -> bool:
    """Whether the login session ``sid`` ended at logout."""
    if known_live(sid):
        return False
    since = _generation
    if EndedSession.objects.filter(sid=sid).exists():
        return True
    with _lock:
        if since == _generation:
            if len(_live_sessions) >= MAX_ENTRIES:
                _live_sessions.clear()
            _live_sessions[sid] = time.monotonic() + CACHE_SECONDS
    return False


def _forget(user_id: Any = None, sid: str | None = None) -> None:
    global _generation
    with _lock:
        _generation += 1
        if user_id is not None:
            _users.pop(str(user_id), None)
        if sid is not None:
            _live_sessions.pop(sid, None)


def forget_users(*args: Any, **kwargs: Any) -> None:
    """Drop everything (tests)."""
    global _generation
    with _lock:
        _generation += 1
        _tokens.clear()
        _users.clear()
        _live_sessions.clear()


def user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    """Signal receiver: a user row was saved or deleted here."""
    pk = instance.pk
    _forget(user_id=pk)
    # A request that read the row before the commit must not keep it.
    transaction.on_commit(lambda: _forget(user_id=pk))


def session_changed(sender: Any, instance: EndedSession, **kwargs: Any) -> None:
    """Signal receiver: a session ended here."""
    sid = instance.sid
    _forget(sid=sid)
    transaction.on_commit(lambda: _forget(sid=sid))
