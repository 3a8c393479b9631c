"""Walks the URL configuration: no mutating endpoint may leave no audit row.

Each mutating route is called in a way that is refused (missing body, a
resource that does not exist, or the engine down, so nothing real changes
on the engine), and must write a failure row naming the action. That the
successful path writes a success row is proven by each endpoint's tests.
"""

from __future__ import annotations

import re

import pytest

from apps.audit.models import AuditLog, Outcome
from tests.routes import MUTATING, api_routes

pytestmark = pytest.mark.django_db
DOCKER = re.compile(r"^api/v1/(containers|images|volumes|networks)\b")


def mutating_requests():
    return [
        (route, method)
        for route in api_routes()
        for method in route.methods
        if method in MUTATING
    ]


def test_the_walk_finds_the_mutating_endpoints():
    patterns = {route.pattern for route, _ in mutating_requests()}
    assert "api/v1/auth/login" in patterns
    assert any(p.startswith("api/v1/containers/") for p in patterns)


def test_every_mutating_endpoint_writes_an_audit_row(
    admin_client, relay, relayed_default
):
    relay.stop()  # the engine is "down": Docker routes are refused, none acts
    missing = []
    for route, method in mutating_requests():
        before = AuditLog.objects.count()
        path = route.path("dpt-missing")
        if DOCKER.match(route.pattern):
            path += "?environment=relay"
        response = getattr(admin_client, method)(path, {}, format="json")

        rows = list(
            AuditLog.objects.order_by("-id")[: AuditLog.objects.count() - before]
        )
        if not rows:
            missing.append(f"{method.upper()} {route.pattern} ({response.status_code})")
            continue
        assert response.status_code >= 400, (route.pattern, method)
        assert all(row.outcome == Outcome.FAILURE for row in rows)
        assert all(row.action for row in rows)
    assert not missing, "no audit row written by: " + ", ".join(missing)
