"""Personal API tokens and the life cycle of every credential.

Each change (logout, password change, deactivation, role change, expiry,
revocation) must take effect on the very next request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, Role
from apps.accounts.tokens import digest
from apps.audit.models import AuditLog
from tests.conftest import PASSWORD, client_for, grant_environment

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/auth/me"
CONTAINERS = "/api/v1/containers/"


def login(user) -> dict:
    response = APIClient().post(
        "/api/v1/auth/login",
        {"username": user.username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def in_days(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def make_token(user, scopes="read,write", days=30, **extra) -> dict:
    body = {"name": "ci", "scopes": scopes, "expires_at": in_days(days), **extra}
    response = client_for(user).post(
        TOKENS, {"password": PASSWORD, **body}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_secret_is_shown_once_and_stored_only_as_a_hash(operator_user):
    created = make_token(operator_user)

    stored = ApiToken.objects.get(pk=created["id"])
    assert created["token"].startswith(created["prefix"] + "_")
    assert stored.secret_hash == digest(created["token"])
    assert created["token"] not in str(vars(stored))
    listed = client_for(operator_user).get(TOKENS).json()
    assert [t["prefix"] for t in listed] == [created["prefix"]]
    assert "token" not in listed[0]
    assert AuditLog.objects.filter(action="token.create", outcome="success").exists()


def test_creating_a_token_needs_the_password(operator_user):
    body = {"name": "ci", "scopes": "read", "expires_at": in_days(5)}
    stale = client_for(operator_user)  # a JWT from no login: not fresh

    wrong = stale.post(TOKENS, {**body, "password": "nope-nope-nope"}, format="json")
    missing = stale.post(TOKENS, body, format="json")

    assert wrong.status_code == 400
    assert missing.status_code == 400
    assert missing.json()["details"]["field"] == "password"


def test_a_fresh_login_stands_in_for_the_password(operator_user):
    client = bearer(login(operator_user)["access"])
    body = {"name": "ci", "scopes": "read", "expires_at": in_days(5)}

    assert client.post(TOKENS, body, format="json").status_code == 201


@pytest.mark.parametrize("days", [-1, 366])
def test_the_expiry_is_mandatory_and_within_a_year(operator_user, days):
    body = {"name": "ci", "scopes": "read", "password": PASSWORD}
    client = client_for(operator_user)

    without = client.post(TOKENS, body, format="json")
    out_of_range = client.post(
        TOKENS, {**body, "expires_at": in_days(days)}, format="json"
    )

    assert without.status_code == 400
    assert out_of_range.status_code == 400
    assert out_of_range.json()["message"].startswith("expires_at:")


def test_a_token_acts_as_its_owner_and_records_its_last_use(operator_user):
    created = make_token(operator_user)

    response = bearer(created["token"]).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == operator_user.username
    assert ApiToken.objects.get(pk=created["id"]).last_used_at is not None


def test_a_read_token_cannot_change_anything(operator_user):
    client = bearer(make_token(operator_user, scopes="read")["token"])

    assert client.get("/api/v1/environments/").status_code == 200
    refused = client.post(CONTAINERS, {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"


def test_a_read_write_token_may_change(operator_user):
    client = bearer(make_token(operator_user)["token"])

    # An empty body passes access and fails validation: nothing is created.
    assert client.post(CONTAINERS, {}, format="json").status_code == 400


def test_a_token_cannot_make_tokens(operator_user):
    client = bearer(make_token(operator_user)["token"])
    body = {"name": "x", "scopes": "read", "expires_at": in_days(5)}

    response = client.post(TOKENS, {**body, "password": PASSWORD}, format="json")

    assert response.status_code == 403


def test_a_revoked_token_stops_at_the_next_request(operator_user):
    created = make_token(operator_user)
    client = bearer(created["token"])
    assert client.get(ME).status_code == 200

    revoked = client_for(operator_user).delete(f"{TOKENS}{created['id']}/")

    assert revoked.status_code == 204
    assert client.get(ME).status_code == 401
    assert "revoked" in client.get(ME).json()["message"]


def test_nobody_revokes_another_users_token(operator_user, viewer_user):
    created = make_token(operator_user)

    response = client_for(viewer_user).delete(f"{TOKENS}{created['id']}/")

    assert response.status_code == 404
    assert bearer(created["token"]).get(ME).status_code == 200


def test_an_expired_token_stops_at_the_next_request(operator_user):
    created = make_token(operator_user)
    client = bearer(created["token"])
    assert client.get(ME).status_code == 200

    ApiToken.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert client.get(ME).status_code == 401
    assert "expired" in client.get(ME).json()["message"]


def test_a_forged_token_with_a_real_prefix_is_refused(operator_user):
    created = make_token(operator_user)

    forged = created["prefix"] + "_" + "A" * 43

    assert bearer(forged).get(ME).status_code == 401


def test_deactivation_stops_tokens_and_jwts_at_the_next_request(operator_user):
    token_client = bearer(make_token(operator_user)["token"])
    jwt_client = bearer(login(operator_user)["access"])

    operator_user.is_active = False
    operator_user.save()

    assert token_client.get(ME).status_code == 401
    assert jwt_client.get(ME).status_code == 401


def test_a_role_change_applies_to_a_token_at_the_next_request(operator_user):
    client = bearer(make_token(operator_user)["token"])
    assert client.post(CONTAINERS, {}, format="json").status_code == 400

    operator_user.role = Role.VIEWER
    operator_user.save()

    assert client.post(CONTAINERS, {}, format="json").status_code == 403


def test_a_password_change_ends_sessions_and_tokens(operator_user):
    token_client = bearer(make_token(operator_user)["token"])
    jwt_client = bearer(login(operator_user)["access"])

    changed = jwt_client.post(
        "/api/v1/auth/password",
        {"old_password": PASSWORD, "new_password": "a-brand-new-pass-42"},
        format="json",
    )

    assert changed.status_code == 204
    assert jwt_client.get(ME).status_code == 401
    assert token_client.get(ME).status_code == 401


def test_logout_ends_the_access_token_of_the_session_at_once(operator_user):
    tokens = login(operator_user)
    client = bearer(tokens["access"])
    assert client.get(ME).status_code == 200

    out = client.post(
        "/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json"
    )

    assert out.status_code == 204
    assert client.get(ME).status_code == 401
    assert client.get(ME).json()["code"] == "authentication_failed"


def test_logout_also_ends_access_tokens_from_refreshes_of_the_session(operator_user):
    tokens = login(operator_user)
    refreshed = APIClient().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    client = bearer(refreshed.json()["access"])

    client.post(
        "/api/v1/auth/logout", {"refresh": refreshed.json()["refresh"]}, format="json"
    )

    assert bearer(tokens["access"]).get(ME).status_code == 401
    assert client.get(ME).status_code == 401


def test_another_session_survives_a_logout(operator_user):
    first, second = login(operator_user), login(operator_user)

    bearer(first["access"]).post(
        "/api/v1/auth/logout", {"refresh": first["refresh"]}, format="json"
    )

    assert bearer(second["access"]).get(ME).status_code == 200


def test_a_password_reset_by_an_admin_forces_a_new_password(
    admin_client, operator_user
):
    grant_environment(operator_user, ("view",))
    reset = admin_client.post(
        f"/api/v1/users/{operator_user.pk}/reset-password/",
        {"password": "temporary-pass-77"},
        format="json",
    )
    assert reset.status_code == 204

    tokens = (
        APIClient()
        .post(
            "/api/v1/auth/login",
            {"username": operator_user.username, "password": "temporary-pass-77"},
            format="json",
        )
        .json()
    )
    client = bearer(tokens["access"])

    blocked = client.get("/api/v1/environments/")
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "password_change_required"
    assert client.get(ME).status_code == 200
    changed = client.post(
        "/api/v1/auth/password",
        {"old_password": "temporary-pass-77", "new_password": "my-own-pass-4242"},
        format="json",
    )
    assert changed.status_code == 204
    fresh = bearer(
        APIClient()
        .post(
            "/api/v1/auth/login",
            {"username": operator_user.username, "password": "my-own-pass-4242"},
            format="json",
        )
        .json()["access"]
    )
    assert fresh.get("/api/v1/environments/").status_code == 200
