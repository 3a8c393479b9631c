"""POST /api/v1/auth/password: a new password ends every earlier token."""

import pytest
from rest_framework.test import APIClient

from apps.audit.models import Action, AuditLog, Outcome
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-passphrase-42"
CHANGE = "/api/v1/auth/password"
ME = "/api/v1/auth/me"


def login(username, password=PASSWORD):
    return APIClient().post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        format="json",
    )


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(raw):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": raw}, format="json")


def change(client, old=PASSWORD, new=NEW_PASSWORD, **extra):
    return client.post(
        CHANGE, {"old_password": old, "new_password": new}, format="json", **extra
    )


def test_password_change_lets_the_user_log_in_with_the_new_password(operator_user):
    client = bearer(login(operator_user.username).json()["access"])

    response = change(client)

    assert response.status_code == 204
    assert login(operator_user.username, NEW_PASSWORD).status_code == 200
    assert login(operator_user.username, PASSWORD).status_code == 401


def test_password_change_ends_every_refresh_token_of_the_user(operator_user):
    laptop = login(operator_user.username).json()
    phone = login(operator_user.username).json()

    change(bearer(laptop["access"]))

    assert refresh(laptop["refresh"]).status_code == 401
    assert refresh(phone["refresh"]).status_code == 401


def test_password_change_ends_earlier_access_tokens(operator_user):
    laptop = login(operator_user.username).json()
    phone = login(operator_user.username).json()
    assert bearer(phone["access"]).get(ME).status_code == 200

    change(bearer(laptop["access"]))

    assert bearer(laptop["access"]).get(ME).status_code == 401
    refused = bearer(phone["access"]).get(ME)
    assert refused.status_code == 401
    assert "password" in refused.json()["message"]


def test_access_token_from_a_refresh_before_the_change_is_refused(operator_user):
    tokens = login(operator_user.username).json()
    rotated = refresh(tokens["refresh"]).json()

    change(bearer(tokens["access"]))

    assert bearer(rotated["access"]).get(ME).status_code == 401
    assert refresh(rotated["refresh"]).status_code == 401


def test_tokens_issued_after_the_change_work(operator_user):
    change(bearer(login(operator_user.username).json()["access"]))

    tokens = login(operator_user.username, NEW_PASSWORD).json()

    assert bearer(tokens["access"]).get(ME).status_code == 200
    assert refresh(tokens["refresh"]).status_code == 200


def test_password_change_leaves_other_users_tokens_alone(operator_user, viewer_user):
    viewer = login(viewer_user.username).json()

    change(bearer(login(operator_user.username).json()["access"]))

    assert bearer(viewer["access"]).get(ME).status_code == 200
    assert refresh(viewer["refresh"]).status_code == 200


def test_wrong_current_password_is_refused_and_nothing_changes(operator_user):
    tokens = login(operator_user.username).json()

    response = change(bearer(tokens["access"]), old="not-my-password")

    assert response.status_code == 400
    assert response.json()["message"].startswith("old_password:")
    assert bearer(tokens["access"]).get(ME).status_code == 200
    assert login(operator_user.username).status_code == 200


def test_weak_new_password_is_refused_naming_the_field(operator_client):
    response = change(operator_client, new="12345")

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("new_password:")
    assert body["details"]["field"] == "new_password"


def test_password_change_needs_authentication(anon_client):
    response = change(anon_client)

    assert response.status_code == 401


def test_password_change_writes_an_audit_row_without_passwords(operator_user):
    client = bearer(login(operator_user.username).json()["access"])

    response = change(client, REMOTE_ADDR="192.0.2.30", HTTP_USER_AGENT="portal-ui")

    row = AuditLog.objects.get(action=Action.AUTH_PASSWORD_CHANGE)
    assert row.outcome == Outcome.SUCCESS
    assert row.actor == operator_user
    assert row.ip == "192.0.2.30"
    assert row.user_agent == "portal-ui"
    assert row.request_id == response["X-Request-ID"]
    assert row.details == {"sessions_ended": 1, "personal_access_revoked": 0}
    stored = str(row.details) + row.reason
    assert PASSWORD not in stored
    assert NEW_PASSWORD not in stored


def test_refused_password_change_writes_a_failure_row_without_passwords(
    operator_client, operator_user
):
    change(operator_client, old="wrong-old-password")

    row = AuditLog.objects.get(action=Action.AUTH_PASSWORD_CHANGE)
    assert row.outcome == Outcome.FAILURE
    assert row.actor == operator_user
    assert "wrong-old-password" not in str(row.details) + row.reason
    assert NEW_PASSWORD not in str(row.details) + row.reason
