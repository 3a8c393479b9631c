"""POST /api/v1/auth/login: tokens, refusals and the failed-login throttle."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from apps.accounts import throttles
from apps.accounts.models import Role
from apps.audit.models import Action, AuditLog, Outcome
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
LIMIT = 10


def login(client, username, password=PASSWORD, ip="127.0.0.1"):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_login_returns_an_access_and_a_refresh_token(anon_client, operator_user):
    response = login(anon_client, operator_user.username)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_the_access_token_from_login_opens_me(anon_client, operator_user):
    access = login(anon_client, operator_user.username).json()["access"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = client.get("/api/v1/auth/me")

    assert me.status_code == 200
    assert me.json()["username"] == operator_user.username
    assert me.json()["role"] == Role.OPERATOR


def test_login_records_the_time_of_the_last_login(anon_client, operator_user):
    assert operator_user.last_login is None

    login(anon_client, operator_user.username)

    operator_user.refresh_from_db()
    assert operator_user.last_login is not None


def test_wrong_password_is_refused_with_401(anon_client, operator_user):
    response = login(anon_client, operator_user.username, "not-the-password")

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert "password" in body["message"]
    assert "access" not in body


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(
    anon_client, operator_user
):
    unknown = login(anon_client, "nobody-here", "whatever-it-is")
    wrong = login(anon_client, operator_user.username, "whatever-it-is")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_deactivated_user_cannot_log_in(anon_client, operator_user):
    operator_user.is_active = False
    operator_user.save()

    response = login(anon_client, operator_user.username)

    assert response.status_code == 401
    assert "deactivated" in response.json()["message"]


def test_login_without_a_password_names_the_missing_field(anon_client):
    response = anon_client.post(LOGIN, {"username": "someone"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("password:")


def test_eleventh_failure_in_the_window_is_throttled_with_retry_after(
    anon_client, operator_user
):
    for _ in range(LIMIT):
        assert (
            login(anon_client, operator_user.username, "guess-guess").status_code == 401
        )

    response = login(anon_client, operator_user.username, "guess-guess")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 600
    assert response.json()["details"]["retry_after"] == retry_after


def test_throttled_login_is_refused_even_with_the_right_password(
    anon_client, operator_user
):
    for _ in range(LIMIT):
        login(anon_client, operator_user.username, "guess-guess")

    response = login(anon_client, operator_user.username)

    assert response.status_code == 429
    assert "access" not in response.json()


def test_correct_password_within_the_limit_still_works(anon_client, operator_user):
    for _ in range(LIMIT - 1):
        login(anon_client, operator_user.username, "guess-guess")

    response = login(anon_client, operator_user.username)

    assert response.status_code == 200
    assert "access" in response.json()


def test_a_successful_login_forgives_the_usernames_failures(anon_client, operator_user):
    for _ in range(LIMIT - 1):
        login(anon_client, operator_user.username, "guess-guess", ip="10.0.0.1")
    assert login(anon_client, operator_user.username, ip="10.0.0.2").status_code == 200

    for _ in range(LIMIT - 1):
        login(anon_client, operator_user.username, "guess-guess", ip="10.0.0.3")

    assert login(anon_client, operator_user.username, ip="10.0.0.4").status_code == 200


def test_failures_from_many_addresses_are_stopped_by_the_username_counter(
    anon_client, operator_user
):
    for n in range(LIMIT):
        response = login(
            anon_client, operator_user.username, "guess-guess", ip=f"10.1.0.{n + 1}"
        )
        assert response.status_code == 401

    response = login(
        anon_client, operator_user.username, "guess-guess", ip="10.1.0.200"
    )

    assert response.status_code == 429
    assert "Retry-After" in response


def test_failures_from_one_address_are_stopped_by_the_address_counter(
    anon_client, operator_user
):
    for n in range(LIMIT):
        login(anon_client, f"sprayed-{n}", "guess-guess", ip="10.2.0.1")

    from_that_address = login(anon_client, operator_user.username, ip="10.2.0.1")
    from_elsewhere = login(anon_client, operator_user.username, ip="10.2.0.2")

    assert from_that_address.status_code == 429
    assert from_elsewhere.status_code == 200


def test_username_counter_ignores_case_and_surrounding_spaces(
    anon_client, operator_user
):
    name = operator_user.username
    for n in range(LIMIT):
        variant = name.upper() if n % 2 else f" {name} "
        login(anon_client, variant, "guess-guess", ip=f"10.3.0.{n + 1}")

    assert login(anon_client, name, ip="10.3.0.200").status_code == 429


def test_logins_are_allowed_again_after_the_window(
    anon_client, operator_user, monkeypatch
):
    clock = SimpleNamespace(now=1_000_000.0)
    monkeypatch.setattr(throttles, "time", SimpleNamespace(time=lambda: clock.now))
    for _ in range(LIMIT):
        login(anon_client, operator_user.username, "guess-guess")
    assert login(anon_client, operator_user.username).status_code == 429

    clock.now += 601

    assert login(anon_client, operator_user.username).status_code == 200


def test_successful_login_writes_an_audit_row(anon_client, operator_user):
    response = anon_client.post(
        LOGIN,
        {"username": operator_user.username, "password": PASSWORD},
        format="json",
        REMOTE_ADDR="192.0.2.7",
        HTTP_USER_AGENT="dockpilot-cli/1.0",
    )

    row = AuditLog.objects.get(action=Action.AUTH_LOGIN)
    assert row.outcome == Outcome.SUCCESS
    assert row.actor == operator_user
    assert row.actor_username == operator_user.username
    assert row.ip == "192.0.2.7"
    assert row.user_agent == "dockpilot-cli/1.0"
    assert row.request_id == response["X-Request-ID"]


def test_failed_login_writes_a_failure_row_without_the_password(
    anon_client, operator_user
):
    login(anon_client, operator_user.username, "my-secret-guess", ip="192.0.2.8")

    row = AuditLog.objects.get(action=Action.AUTH_LOGIN)
    assert row.outcome == Outcome.FAILURE
    assert row.actor is None
    assert row.resource_name == operator_user.username
    assert row.ip == "192.0.2.8"
    assert "my-secret-guess" not in str(row.details) + row.reason


def test_throttled_login_writes_a_failure_row(anon_client, operator_user):
    for _ in range(LIMIT):
        login(anon_client, operator_user.username, "guess-guess")

    login(anon_client, operator_user.username)

    last = AuditLog.objects.filter(action=Action.AUTH_LOGIN).first()
    assert last.outcome == Outcome.FAILURE
    assert last.reason == "throttled"
    assert AuditLog.objects.filter(action=Action.AUTH_LOGIN).count() == LIMIT + 1
