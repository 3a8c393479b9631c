"""The audit log itself: append-only rows, scrubbed details, refused requests."""

import pytest
from django.test import Client
from django.test.client import RequestFactory

from apps.audit.models import Action, AuditLog, Outcome
from apps.audit.scrub import scrub
from apps.audit.services import audited, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(db) -> AuditLog:
    return record(
        Action.CONTAINER_START,
        resource_type="container",
        resource_id="abc123",
        resource_name="web",
    )


# Append-only


def test_saving_an_existing_row_again_is_refused(row):
    row.outcome = Outcome.FAILURE

    with pytest.raises(PermissionError):
        row.save()

    assert AuditLog.objects.get(pk=row.pk).outcome == Outcome.SUCCESS


def test_deleting_a_row_is_refused(row):
    with pytest.raises(PermissionError):
        row.delete()

    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_queryset_update_is_refused(row):
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(outcome=Outcome.FAILURE)

    assert AuditLog.objects.get(pk=row.pk).outcome == Outcome.SUCCESS


def test_queryset_delete_is_refused(row):
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()

    assert AuditLog.objects.count() == 1


def test_deleting_the_actor_keeps_the_row_and_its_username(operator_user):
    entry = record(Action.CONTAINER_STOP, actor=operator_user)

    operator_user.delete()

    kept = AuditLog.objects.get(pk=entry.pk)
    assert kept.actor is None
    assert kept.actor_username == "oscar-operator"


# Scrubbing


def test_scrub_masks_passwords_and_tokens_at_any_depth():
    details = {
        "password": "hunter2-hunter2",
        "new_password": "x",
        "token": "t0k3n",
        "registry": {"username": "bob", "auth_token": "abc", "api_key": "k"},
        "items": [{"secret": "s"}],
    }

    clean = scrub(details)

    assert clean == {
        "password": "***",
        "new_password": "***",
        "token": "***",
        "registry": {"username": "bob", "auth_token": "***", "api_key": "***"},
        "items": [{"secret": "***"}],
    }


def test_scrub_keeps_environment_names_and_masks_their_values():
    clean = scrub(
        {
            "env": ["DB_PASSWORD=hunter2", "DEBUG=1", "FLAG"],
            "spec": {"Environment": {"API_KEY": "k", "MODE": "prod"}},
        }
    )

    assert clean["env"] == ["DB_PASSWORD=***", "DEBUG=***", "FLAG=***"]
    assert clean["spec"]["Environment"] == {"API_KEY": "***", "MODE": "***"}


def test_scrub_accepts_keys_that_are_not_strings():
    assert scrub({80: 8080, "ports": {443: None}}) == {80: 8080, "ports": {443: None}}


def test_scrub_leaves_the_input_unchanged():
    details = {"password": "p", "env": ["A=b"]}

    scrub(details)

    assert details == {"password": "p", "env": ["A=b"]}


def test_record_stores_scrubbed_details(db):
    entry = record(
        Action.CONTAINER_CREATE,
        details={
            "image": "nginx",
            "env": ["POSTGRES_PASSWORD=hunter2"],
            "password": "hunter2",
        },
    )

    stored = AuditLog.objects.get(pk=entry.pk).details
    assert stored == {
        "image": "nginx",
        "env": ["POSTGRES_PASSWORD=***"],
        "password": "***",
    }
    assert "hunter2" not in str(stored)


# record() and audited()


def test_record_takes_ip_user_agent_and_actor_from_the_request(operator_user):
    request = RequestFactory().post(
        "/x",
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="curl/8",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    request.user = operator_user

    entry = record(Action.VOLUME_CREATE, request=request)

    assert entry.actor == operator_user
    assert entry.actor_username == operator_user.username
    assert entry.ip == "198.51.100.4"
    assert entry.user_agent == "curl/8"


def test_record_refuses_an_unknown_action(db):
    with pytest.raises(ValueError):
        record("container.teleport")

    assert not AuditLog.objects.exists()


def test_audited_block_that_ends_writes_a_success_row(operator_user):
    with audited(
        Action.CONTAINER_RENAME, actor=operator_user, resource_type="container"
    ) as target:
        target.resource_id = "abc"
        target.details["new_name"] = "db"

    entry = AuditLog.objects.get()
    assert entry.outcome == Outcome.SUCCESS
    assert entry.resource_id == "abc"
    assert entry.details == {"new_name": "db"}


def test_audited_block_that_raises_writes_a_failure_row_and_reraises(operator_user):
    with (
        pytest.raises(RuntimeError),
        audited(Action.CONTAINER_KILL, actor=operator_user) as target,
    ):
        target.resource_id = "abc"
        raise RuntimeError("engine said no")

    entry = AuditLog.objects.get()
    assert entry.outcome == Outcome.FAILURE
    assert entry.reason == "engine said no"
    assert entry.resource_id == "abc"


# Rows written by requests


def test_refused_viewer_post_writes_a_failure_row(viewer_client, viewer_user):
    response = viewer_client.post(
        "/api/v1/containers/",
        {"image": "busybox"},
        format="json",
        HTTP_USER_AGENT="viewer-ui",
    )

    assert response.status_code == 403
    entry = AuditLog.objects.get()
    assert entry.action == Action.CONTAINER_CREATE
    assert entry.outcome == Outcome.FAILURE
    assert entry.actor == viewer_user
    assert entry.resource_type == "container"
    assert entry.details == {"status": 403, "code": "permission_denied"}
    assert entry.user_agent == "viewer-ui"
    assert entry.request_id == response["X-Request-ID"]


def test_refused_bad_input_writes_a_failure_row(operator_client, operator_user):
    response = operator_client.post(
        "/api/v1/containers/", {"imgae": "busybox"}, format="json"
    )

    assert response.status_code == 400
    entry = AuditLog.objects.get()
    assert entry.action == Action.CONTAINER_CREATE
    assert entry.outcome == Outcome.FAILURE
    assert entry.actor == operator_user
    assert entry.details["status"] == 400
    assert "imgae" in entry.reason


def test_refused_request_on_one_object_names_it(viewer_client):
    viewer_client.post("/api/v1/containers/web-1/stop/", {}, format="json")

    entry = AuditLog.objects.get()
    assert entry.action == Action.CONTAINER_STOP
    assert entry.resource_id == "web-1"


def test_reading_writes_no_audit_row(viewer_client):
    viewer_client.get("/api/v1/auth/me")

    assert not AuditLog.objects.exists()


def test_bad_login_input_writes_a_failure_row_without_the_password(anon_client):
    anon_client.post(
        "/api/v1/auth/login",
        {"username": "x", "password": "leaked-secret-1", "extra": 1},
        format="json",
    )

    entry = AuditLog.objects.get()
    assert entry.action == Action.AUTH_LOGIN
    assert entry.outcome == Outcome.FAILURE
    assert "leaked-secret-1" not in str(entry.details) + entry.reason


def test_a_client_request_id_is_kept_in_the_header_and_the_row(viewer_client):
    response = viewer_client.post(
        "/api/v1/containers/", {}, format="json", HTTP_X_REQUEST_ID="client-abc.123"
    )

    assert response["X-Request-ID"] == "client-abc.123"
    assert AuditLog.objects.get().request_id == "client-abc.123"


def test_a_forged_request_id_is_replaced(viewer_client):
    response = viewer_client.post(
        "/api/v1/containers/",
        {},
        format="json",
        HTTP_X_REQUEST_ID="bad id\nINFO forged",
    )

    assert response["X-Request-ID"] != "bad id\nINFO forged"
    assert AuditLog.objects.get().request_id == response["X-Request-ID"]


# The Django admin


@pytest.fixture
def site_admin(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_lists_audit_rows(site_admin, row):
    response = site_admin.get("/admin/audit/auditlog/")

    assert response.status_code == 200
    assert "container.start" in response.content.decode()


def test_admin_change_page_is_read_only(site_admin, row):
    response = site_admin.get(f"/admin/audit/auditlog/{row.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "abc123" in page
    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page
    assert "deletelink" not in page


def test_admin_cannot_change_a_row_by_posting(site_admin, row):
    response = site_admin.post(
        f"/admin/audit/auditlog/{row.pk}/change/",
        {"outcome": Outcome.FAILURE, "action": row.action},
    )

    assert response.status_code == 403
    assert AuditLog.objects.get(pk=row.pk).outcome == Outcome.SUCCESS


def test_admin_cannot_add_a_row(site_admin):
    assert site_admin.get("/admin/audit/auditlog/add/").status_code == 403


def test_admin_cannot_delete_a_row(site_admin, row):
    page = site_admin.get(f"/admin/audit/auditlog/{row.pk}/delete/")
    post = site_admin.post(f"/admin/audit/auditlog/{row.pk}/delete/", {"post": "yes"})

    assert page.status_code == 403
    assert post.status_code == 403
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_admin_has_no_bulk_delete_action(site_admin, row):
    response = site_admin.post(
        "/admin/audit/auditlog/",
        {
            "action": "delete_selected",
            "_selected_action": [row.pk],
            "post": "yes",
        },
    )

    assert response.status_code in {200, 302}
    assert AuditLog.objects.filter(pk=row.pk).exists()
    assert (
        "delete_selected"
        not in site_admin.get("/admin/audit/auditlog/").content.decode()
    )
