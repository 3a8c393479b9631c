"""JWT life cycle: lifetimes, refresh rotation, logout, deactivation, roles."""

import importlib.util
import time
from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import Role
from apps.audit.models import Action, AuditLog, Outcome
from tests.conftest import PASSWORD, grant_environment

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def login(user):
    client = APIClient()
    response = client.post(
        LOGIN, {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(raw):
    return APIClient().post(REFRESH, {"refresh": raw}, format="json")


def test_access_token_lives_15_minutes_and_refresh_token_7_days(operator_user):
    tokens = login(operator_user)

    access = AccessToken(tokens["access"])
    refresh_token = RefreshToken(tokens["refresh"])

    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh_token["exp"] - refresh_token["iat"] == 7 * 24 * 3600


def _load_base_settings_again():
    # A private copy of the settings module, so the running settings stay put.
    spec = importlib.util.find_spec("dockpilot.settings.base")
    probe = importlib.util.spec_from_file_location("settings_probe", spec.origin)
    module = importlib.util.module_from_spec(probe)
    probe.loader.exec_module(module)
    return module


def test_token_lifetimes_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DOCKPILOT_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("DOCKPILOT_REFRESH_TOKEN_DAYS", "30")

    fresh = _load_base_settings_again()

    assert fresh.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=5)
    assert fresh.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == timedelta(days=30)


def test_default_lifetimes_in_settings():
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=15)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == timedelta(days=7)


def test_me_shows_the_user_without_secrets(operator_client, operator_user):
    response = operator_client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == operator_user.username
    assert body["role"] == Role.OPERATOR
    assert body["is_active"] is True
    assert "password" not in body


def test_me_without_a_token_is_401(anon_client):
    response = anon_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_expired_access_token_is_refused(operator_user):
    token = AccessToken.for_user(operator_user)
    token.set_exp(lifetime=timedelta(seconds=-1))

    response = bearer(str(token)).get(ME)

    assert response.status_code == 401


def test_garbage_bearer_token_is_refused_with_json(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    response = anon_client.get(ME)

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_refresh_returns_a_new_pair(operator_user):
    tokens = login(operator_user)

    response = refresh(tokens["refresh"])

    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != tokens["refresh"]
    assert bearer(new["access"]).get(ME).status_code == 200


def test_refresh_rotates_so_the_old_refresh_token_is_refused(operator_user):
    tokens = login(operator_user)
    assert refresh(tokens["refresh"]).status_code == 200

    again = refresh(tokens["refresh"])

    assert again.status_code == 401
    assert again.json()["code"] == "invalid_token"


def test_the_rotated_refresh_token_can_refresh_again(operator_user):
    tokens = login(operator_user)
    second = refresh(tokens["refresh"]).json()

    third = refresh(second["refresh"])

    assert third.status_code == 200


def test_refresh_with_an_access_token_is_refused(operator_user):
    tokens = login(operator_user)

    response = refresh(tokens["access"])

    assert response.status_code == 401


def test_refresh_with_garbage_is_refused(db):
    response = refresh("not-a-token")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_refresh_writes_an_audit_row(operator_user):
    tokens = login(operator_user)

    response = APIClient().post(
        REFRESH,
        {"refresh": tokens["refresh"]},
        format="json",
        REMOTE_ADDR="192.0.2.20",
        HTTP_USER_AGENT="script/2",
    )

    row = AuditLog.objects.filter(action=Action.AUTH_REFRESH).get()
    assert row.outcome == Outcome.SUCCESS
    assert row.actor == operator_user
    assert row.ip == "192.0.2.20"
    assert row.user_agent == "script/2"
    assert row.request_id == response["X-Request-ID"]


def test_refused_refresh_writes_a_failure_row(operator_user):
    tokens = login(operator_user)
    refresh(tokens["refresh"])

    refresh(tokens["refresh"])

    failure = AuditLog.objects.filter(action=Action.AUTH_REFRESH).first()
    assert failure.outcome == Outcome.FAILURE
    assert tokens["refresh"] not in str(failure.details) + failure.reason


def test_logout_blacklists_the_refresh_token(operator_user):
    tokens = login(operator_user)

    response = bearer(tokens["access"]).post(
        LOGOUT, {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 204
    assert refresh(tokens["refresh"]).status_code == 401


def test_logout_writes_an_audit_row(operator_user):
    tokens = login(operator_user)

    response = bearer(tokens["access"]).post(
        LOGOUT,
        {"refresh": tokens["refresh"]},
        format="json",
        HTTP_USER_AGENT="browser/9",
    )

    row = AuditLog.objects.filter(action=Action.AUTH_LOGOUT).get()
    assert row.outcome == Outcome.SUCCESS
    assert row.actor == operator_user
    assert row.user_agent == "browser/9"
    assert row.request_id == response["X-Request-ID"]


def test_logout_needs_authentication(operator_user):
    tokens = login(operator_user)

    response = APIClient().post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert refresh(tokens["refresh"]).status_code == 200


def test_logout_refuses_another_users_refresh_token(operator_user, viewer_user):
    operator_tokens = login(operator_user)
    viewer_tokens = login(viewer_user)

    response = bearer(operator_tokens["access"]).post(
        LOGOUT, {"refresh": viewer_tokens["refresh"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("refresh:")
    assert refresh(viewer_tokens["refresh"]).status_code == 200


def test_deactivated_user_is_refused_with_a_valid_access_token(operator_user):
    tokens = login(operator_user)
    client = bearer(tokens["access"])
    assert client.get(ME).status_code == 200

    operator_user.is_active = False
    operator_user.save()

    response = client.get(ME)
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_deactivated_user_cannot_refresh(operator_user):
    tokens = login(operator_user)
    operator_user.is_active = False
    operator_user.save()

    response = refresh(tokens["refresh"])

    assert response.status_code == 401
    assert "deactivated" in response.json()["message"]


def test_deleted_user_cannot_refresh(operator_user):
    tokens = login(operator_user)
    operator_user.delete()

    assert refresh(tokens["refresh"]).status_code == 401


def test_operator_demoted_to_viewer_is_refused_a_post_with_the_same_token(
    operator_user,
):
    client = bearer(login(operator_user)["access"])
    # An empty body passes the role check and fails validation: no engine needed.
    before = client.post("/api/v1/containers/", {}, format="json")
    assert before.status_code == 400

    operator_user.role = Role.VIEWER
    operator_user.save()

    after = client.post("/api/v1/containers/", {}, format="json")
    assert after.status_code == 403
    assert after.json()["code"] == "permission_denied"


def test_viewer_promoted_to_operator_may_post_with_the_same_token(viewer_user):
    # Granted operate on the environment, the viewer's role still caps it.
    grant_environment(viewer_user, ("operate",))
    client = bearer(login(viewer_user)["access"])
    assert client.post("/api/v1/containers/", {}, format="json").status_code == 403

    viewer_user.role = Role.OPERATOR
    viewer_user.save()

    assert client.post("/api/v1/containers/", {}, format="json").status_code == 400


def test_me_shows_the_new_role_at_once(operator_user):
    client = bearer(login(operator_user)["access"])

    operator_user.role = Role.VIEWER
    operator_user.save()

    assert client.get(ME).json()["role"] == Role.VIEWER


def test_a_deactivation_made_elsewhere_is_refused_after_the_cache_window(
    operator_user, monkeypatch
):
    # An update() sends no signal, as a change made by another process
    # reaches this one: the user kept by authcache lasts CACHE_SECONDS.
    from apps.accounts import authcache

    monkeypatch.setattr(authcache, "CACHE_SECONDS", 0.2)
    client = bearer(login(operator_user)["access"])
    assert client.get(ME).status_code == 200

    type(operator_user).objects.filter(pk=operator_user.pk).update(is_active=False)
    for _ in range(20):
        if client.get(ME).status_code == 401:
            break
        time.sleep(0.05)

    assert client.get(ME).status_code == 401


def test_an_access_token_used_before_is_refused_once_it_expires(operator_user):
    access = AccessToken.for_user(operator_user)
    access.set_exp(lifetime=timedelta(seconds=1))
    client = bearer(str(access))
    assert client.get(ME).status_code == 200

    time.sleep(1.2)

    assert client.get(ME).status_code == 401
