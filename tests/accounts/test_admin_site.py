"""The admin site: its logins and its changes are audited like the API's."""

import pytest
from django.test import Client

from apps.accounts.models import Role, User
from apps.audit.models import AuditLog, Outcome
from apps.containers.models import Environment
from tests.accounts.test_users_admin import change_form
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def _admin_login(client: Client, username: str, password: str):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )


def test_a_failed_admin_login_is_audited(admin_user):
    _admin_login(Client(), admin_user.username, "wrong-password")

    row = AuditLog.objects.get(action="auth.login")
    assert row.outcome == Outcome.FAILURE
    assert row.resource_name == admin_user.username
    assert row.details["via"] == "session"


def test_a_successful_admin_login_and_logout_are_audited(admin_user):
    client = Client()
    assert _admin_login(client, admin_user.username, PASSWORD).status_code == 302
    client.post("/admin/logout/")

    actions = list(AuditLog.objects.order_by("id").values_list("action", "outcome"))
    assert actions == [("auth.login", "success"), ("auth.logout", "success")]


def test_admin_login_is_throttled_after_repeated_failures(admin_user):
    client = Client()
    for _ in range(10):
        _admin_login(client, admin_user.username, "wrong-password")

    response = _admin_login(client, admin_user.username, PASSWORD)

    assert response.status_code == 200  # the form again, not the redirect
    assert "Too many failed logins" in response.content.decode()


def test_a_role_change_in_the_admin_is_audited_and_moves_the_superuser_flag(
    admin_user, operator_user
):
    client = Client()
    client.force_login(admin_user)

    client.post(
        f"/admin/accounts/user/{operator_user.pk}/change/",
        change_form(operator_user, role=Role.ADMIN),
    )

    operator_user.refresh_from_db()
    assert operator_user.role == Role.ADMIN and operator_user.is_superuser
    row = AuditLog.objects.get(action="user.update")
    assert row.resource_name == operator_user.username
    assert "role" in row.details["changed"]


def test_a_demoted_admin_loses_superuser_and_staff():
    user = User.objects.create_superuser("root-ish", password=PASSWORD)
    user.role = Role.VIEWER
    user.save(update_fields=["role"])

    user.refresh_from_db()
    assert not user.is_superuser and not user.is_staff and not user.is_admin


def test_an_environment_added_in_the_admin_is_audited(admin_user):
    client = Client()
    client.force_login(admin_user)

    client.post(
        "/admin/containers/environment/add/",
        {"name": "remote", "endpoint": "tcp://127.0.0.1:2375"},
    )

    assert Environment.objects.filter(name="remote").exists()
    row = AuditLog.objects.get(action="environment.create")
    assert row.resource_name == "remote" and row.details["via"] == "admin"


def test_every_model_of_the_portal_is_in_the_admin():
    from django.apps import apps
    from django.contrib import admin

    ours = [m for m in apps.get_models() if m.__module__.startswith("apps.")]
    # Output chunks are shown inside their job's page, not on a page of their own.
    inline = {"jobs.JobOutput"}
    missing = [
        m._meta.label
        for m in ours
        if m not in admin.site._registry and m._meta.label not in inline
    ]
    assert not missing, f"models missing from the admin: {missing}"


def test_jobs_and_audit_rows_are_read_only_in_the_admin(admin_user):
    client = Client()
    client.force_login(admin_user)

    assert client.get("/admin/jobs/job/").status_code == 200
    assert client.get("/admin/audit/auditlog/add/").status_code == 403
    assert client.get("/admin/jobs/job/add/").status_code == 403
    assert client.get("/admin/accounts/endedsession/").status_code == 200
