"""First run: the setup token, POST /api/v1/auth/setup and createsuperuser."""

import logging
import stat

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.accounts.setup import prepare_first_run
from apps.audit.models import Action, AuditLog, Outcome
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SETUP = "/api/v1/auth/setup"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.ADMIN_PASSWORD = ""
    return tmp_path


@pytest.fixture
def setup_log(caplog, monkeypatch):
    # The "dockpilot" logger does not propagate to the root logger, where
    # caplog listens, so hand it caplog's handler when it lacks it.
    portal_logger = logging.getLogger("dockpilot")
    if caplog.handler not in portal_logger.handlers:
        monkeypatch.setattr(
            portal_logger, "handlers", [*portal_logger.handlers, caplog.handler]
        )
    caplog.set_level(logging.INFO, logger="dockpilot.accounts.setup")
    return caplog


def logged_token(caplog) -> str:
    messages = [
        r.getMessage() for r in caplog.records if "auth/setup" in r.getMessage()
    ]
    assert messages, "prepare_first_run() logged no setup instructions"
    return messages[-1].split('"token": "', 1)[1].split('"', 1)[0]


def set_up(token, username="first-admin", password=PASSWORD, **extra):
    return APIClient().post(
        SETUP,
        {"token": token, "username": username, "password": password},
        format="json",
        **extra,
    )


def test_first_run_writes_the_setup_token_to_the_log_and_a_private_file(
    setup_log, data_dir
):
    prepare_first_run()

    token = logged_token(setup_log)
    path = data_dir / "setup_token"
    assert path.read_text() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 24


def test_a_restart_prints_the_same_pending_token(setup_log):
    prepare_first_run()
    first = logged_token(setup_log)
    setup_log.clear()

    prepare_first_run()

    assert logged_token(setup_log) == first


def test_setup_with_the_logged_token_creates_an_admin_and_returns_tokens(setup_log):
    prepare_first_run()

    response = set_up(logged_token(setup_log))

    assert response.status_code == 201
    assert set(response.json()) == {"access", "refresh"}
    admin = User.objects.get()
    assert admin.username == "first-admin"
    assert admin.role == Role.ADMIN
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(PASSWORD)


def test_the_admin_from_setup_can_log_in(setup_log):
    prepare_first_run()
    set_up(logged_token(setup_log))

    response = APIClient().post(
        "/api/v1/auth/login",
        {"username": "first-admin", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200


def test_setup_with_a_wrong_token_is_403_and_creates_nobody(setup_log):
    prepare_first_run()

    response = set_up("not-the-token")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "server log" in response.json()["message"]
    assert not User.objects.exists()


def test_setup_is_refused_when_no_token_was_ever_written(db):
    response = set_up("")

    assert response.status_code == 400

    response = set_up("guessed")

    assert response.status_code == 403
    assert not User.objects.exists()


def test_the_token_is_gone_after_use(setup_log, data_dir):
    prepare_first_run()
    token = logged_token(setup_log)
    set_up(token)

    assert not (data_dir / "setup_token").exists()
    again = set_up(token, username="second-admin")
    assert again.status_code == 409
    assert User.objects.count() == 1


def test_setup_is_refused_with_409_once_a_user_exists(setup_log):
    prepare_first_run()
    token = logged_token(setup_log)
    make_user("created-by-hand", Role.VIEWER)

    response = set_up(token)

    assert response.status_code == 409
    assert response.json()["code"] == "setup_done"
    assert not User.objects.filter(username="first-admin").exists()


def test_first_run_with_users_present_discards_a_stale_token(setup_log, data_dir):
    prepare_first_run()
    make_user("created-by-hand", Role.VIEWER)
    setup_log.clear()

    prepare_first_run()

    assert not (data_dir / "setup_token").exists()
    assert not setup_log.records


def test_setup_with_a_weak_password_names_the_field(setup_log):
    prepare_first_run()

    response = set_up(logged_token(setup_log), password="12345")

    assert response.status_code == 400
    assert response.json()["message"].startswith("password:")
    assert not User.objects.exists()


def test_setup_with_a_bad_username_names_the_field(setup_log):
    prepare_first_run()

    response = set_up(logged_token(setup_log), username="no spaces please")

    assert response.status_code == 400
    assert response.json()["message"].startswith("username:")


def test_setup_writes_an_audit_row(setup_log):
    prepare_first_run()

    response = set_up(
        logged_token(setup_log), REMOTE_ADDR="192.0.2.40", HTTP_USER_AGENT="installer/1"
    )

    row = AuditLog.objects.get(action=Action.AUTH_SETUP)
    assert row.outcome == Outcome.SUCCESS
    assert row.actor_username == "first-admin"
    assert row.ip == "192.0.2.40"
    assert row.user_agent == "installer/1"
    assert row.request_id == response["X-Request-ID"]
    assert PASSWORD not in str(row.details) + row.reason


def test_refused_setup_writes_a_failure_row_without_the_token(setup_log):
    prepare_first_run()
    token = logged_token(setup_log)

    set_up(token + "-wrong")

    row = AuditLog.objects.get(action=Action.AUTH_SETUP)
    assert row.outcome == Outcome.FAILURE
    assert row.details["status"] == 403
    assert token not in str(row.details) + row.reason


def test_admin_password_setting_creates_the_admin_at_first_run(
    settings, setup_log, data_dir
):
    settings.ADMIN_USERNAME = "ops"
    settings.ADMIN_PASSWORD = PASSWORD

    prepare_first_run()

    admin = User.objects.get()
    assert admin.username == "ops"
    assert admin.role == Role.ADMIN
    assert admin.is_superuser
    assert admin.check_password(PASSWORD)
    assert not (data_dir / "setup_token").exists()
    assert PASSWORD not in setup_log.text


def test_admin_password_setting_is_ignored_once_users_exist(settings):
    make_user("already-here", Role.ADMIN)
    settings.ADMIN_USERNAME = "ops"
    settings.ADMIN_PASSWORD = PASSWORD

    prepare_first_run()

    assert not User.objects.filter(username="ops").exists()


def test_two_portals_starting_at_once_create_the_admin_once(settings, monkeypatch):
    # The other process created the admin after this one found no user.
    from apps.accounts import setup

    make_user("ops", Role.ADMIN)
    monkeypatch.setattr(setup, "setup_needed", lambda: True)
    settings.ADMIN_USERNAME = "ops"
    settings.ADMIN_PASSWORD = PASSWORD

    prepare_first_run()

    assert User.objects.filter(username="ops").count() == 1


def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "root",
        "--email",
        "root@example.com",
        verbosity=0,
    )

    user = User.objects.get(username="root")
    assert user.role == Role.ADMIN
    assert user.is_superuser and user.is_staff
    assert user.check_password(PASSWORD)
