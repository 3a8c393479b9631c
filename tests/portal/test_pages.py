"""Every page for every persona, through Django's test client and session login.

Pages ask the access module as their REST routes do: viewers read,
operators change what they own, admins everything (and the audit log);
anonymous visitors are sent to log in.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.audit.models import AuditLog
from tests.conftest import LABELS, PASSWORD, RUN_ID

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "/",
    "/containers/",
    "/images/",
    "/volumes/",
    "/networks/",
    "/environments/",
    "/password/",
]


def field_error(response, field: str) -> str:
    """The error text shown next to ``field`` (the field's own block)."""
    html = response.content.decode()
    block = re.search(
        rf'<div class="field has-error[^"]*">(?:(?!<div class="field).)*?name="{field}"'
        r'(?:(?!<div class="field).)*?<p class="field-error"[^>]*>([^<]*)</p>',
        html,
        re.S,
    )
    return block.group(1) if block else ""


@pytest.mark.parametrize("url", [*LIST_PAGES, "/audit/", "/containers/new/"])
def test_anonymous_visitors_are_sent_to_log_in(anon_page: Client, url: str):
    response = anon_page.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.engine
@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_persona_reads_the_list_pages(
    admin_page, operator_page, viewer_page, url, docker_client
):
    for client in (admin_page, operator_page, viewer_page):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:500])
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_login_page_logs_in_any_role_and_is_audited(viewer_user):
    client = Client()

    response = client.post(
        "/login/", {"username": viewer_user.username, "password": PASSWORD}
    )

    assert response.status_code == 302 and response["Location"] == "/"
    row = AuditLog.objects.filter(action="auth.login").latest("id")
    assert row.actor_username == viewer_user.username
    assert row.details == {"via": "session"}


def test_a_wrong_password_is_refused_on_the_login_page(viewer_user):
    response = Client().post(
        "/login/", {"username": viewer_user.username, "password": "wrong-one"}
    )

    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_logout_is_a_post_and_ends_the_session(viewer_page):
    assert viewer_page.post("/logout/").status_code == 302
    assert viewer_page.get("/containers/").status_code == 302


def test_the_api_docs_keep_their_own_policy(anon_page):
    response = anon_page.get("/api/docs/")

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_only_admins_see_the_audit_log(admin_page, operator_page, viewer_page):
    assert admin_page.get("/audit/").status_code == 200
    assert operator_page.get("/audit/").status_code == 403
    assert viewer_page.get("/audit/").status_code == 403
    assert viewer_page.get("/audit/export.csv").status_code == 403


def test_the_audit_log_filters_and_exports_csv(admin_page, viewer_user):
    Client().post("/login/", {"username": viewer_user.username, "password": "nope"})

    page = admin_page.get("/audit/?outcome=failure&action=auth.login")
    export = admin_page.get("/audit/export.csv?outcome=failure")

    assert b"wrong username or password" in page.content
    assert page.context["entries"].paginator.count == 1
    text = b"".join(export.streaming_content).decode()
    assert text.splitlines()[0].startswith("timestamp,actor,action")
    assert "auth.login" in text and "success" not in text.split("\n", 1)[1]


def test_a_bad_audit_filter_is_a_message_not_a_500(admin_page):
    response = admin_page.get("/audit/?since=yesterday")

    assert response.status_code == 400
    assert b"is not a date and time" in response.content


def test_a_viewer_may_not_open_the_create_form(viewer_page):
    response = viewer_page.get("/containers/new/")

    assert response.status_code == 403
    assert b"may only read" in response.content


@pytest.mark.engine
def test_a_viewer_gets_404_for_a_container_out_of_reach(
    viewer_page, make_container, unique_name
):
    make_container(unique_name)

    assert viewer_page.get(f"/containers/{unique_name}/").status_code == 404
    stop = viewer_page.post(f"/containers/{unique_name}/stop/")
    assert stop.status_code == 404


@pytest.mark.engine
def test_a_viewer_with_a_grant_reads_but_cannot_stop_and_sees_no_buttons(
    viewer_page, viewer_user, make_container, unique_name, docker_client
):
    from guardian.shortcuts import assign_perm

    from apps.accounts import access
    from apps.containers.environments import default_environment

    engine_id = make_container(unique_name, environment=["SECRET=hunter2"])
    row = access.record_owner(None, default_environment(), "container", engine_id)
    assign_perm("containers.view_resourceownership", viewer_user, row)

    detail = viewer_page.get(f"/containers/{unique_name}/")
    listing = viewer_page.get("/containers/")
    stop = viewer_page.post(f"/containers/{unique_name}/stop/")

    assert detail.status_code == 200
    assert b"SECRET=***" in detail.content and b"hunter2" not in detail.content
    assert b'data-action="stop"' not in detail.content
    assert unique_name.encode() in listing.content
    assert b'data-action="stop"' not in listing.content
    assert stop.status_code == 403
    assert docker_client.api.inspect_container(engine_id)["State"]["Running"]


@pytest.mark.engine
def test_an_operator_stops_and_starts_its_own_container_with_audit(
    operator_page, operator_user, make_container, unique_name, docker_client
):
    engine_id = make_container(unique_name, owner=operator_user)

    stop = operator_page.post(f"/containers/{unique_name}/stop/")
    stopped = docker_client.api.inspect_container(engine_id)["State"]["Running"]
    start = operator_page.post(f"/containers/{unique_name}/start/", follow=True)

    assert stop.status_code == 302 and not stopped
    assert b"started" in start.content
    actions = AuditLog.objects.filter(resource_id=engine_id).values_list(
        "action", "actor_username"
    )
    assert {("container.stop", operator_user.username)} <= set(actions)
    assert {("container.start", operator_user.username)} <= set(actions)


@pytest.mark.engine
def test_an_operator_sees_env_values_of_its_own_container(
    operator_page, operator_user, make_container, unique_name
):
    make_container(unique_name, owner=operator_user, environment=["MODE=debug"])

    inspect = operator_page.get(f"/containers/{unique_name}/inspect/")

    assert b"MODE=debug" in inspect.content


@pytest.mark.engine
def test_a_refused_action_is_a_message_on_the_page(
    operator_page, operator_user, make_container, unique_name
):
    make_container(unique_name, owner=operator_user)

    response = operator_page.post(f"/containers/{unique_name}/start/", follow=True)

    assert response.status_code == 200
    assert b"already running" in response.content


@pytest.mark.engine
def test_bulk_stop_acts_on_every_selected_container(
    admin_page, make_container, unique_name, docker_client
):
    ids = [make_container(f"{unique_name}-{n}") for n in range(2)]

    response = admin_page.post(
        "/containers/bulk/", {"action": "stop", "ids": ids}, follow=True
    )

    assert b"Stopped: 2." in response.content
    for engine_id in ids:
        assert not docker_client.api.inspect_container(engine_id)["State"]["Running"]


@pytest.mark.engine
def test_the_list_searches_filters_and_sorts(admin_page, make_container, unique_name):
    make_container(f"{unique_name}-b")
    make_container(f"{unique_name}-a", start=False)

    found = admin_page.get(f"/containers/?q={unique_name}&sort=-name")
    running = admin_page.get(f"/containers/?q={unique_name}&state=running")

    names = [row["name"] for row in found.context["rows"]]
    assert names == [f"{unique_name}-b", f"{unique_name}-a"]
    assert [row["name"] for row in running.context["rows"]] == [f"{unique_name}-b"]


@pytest.mark.engine
def test_creating_a_container_from_the_form(
    operator_page, test_image, unique_name, docker_client
):
    response = operator_page.post(
        "/containers/new/",
        {
            "image": test_image,
            "name": unique_name,
            "command": "sh -c 'echo made by a form; sleep 60'",
            "labels": f"dockpilot.test={RUN_ID}",
            "env": "GREETING=hi there",
            "restart": "no",
            "start": "on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/containers/{unique_name}/"
    document = docker_client.api.inspect_container(unique_name)
    assert document["State"]["Running"]
    assert "GREETING=hi there" in document["Config"]["Env"]
    assert document["Config"]["Labels"] == LABELS
    assert AuditLog.objects.filter(
        action="container.create", resource_name=unique_name, outcome="success"
    ).exists()


@pytest.mark.engine
def test_create_errors_are_shown_next_to_their_field(
    operator_page, test_image, docker_client
):
    bad_port = operator_page.post(
        "/containers/new/",
        {"image": test_image, "ports": "eighty", "restart": "no"},
    )
    missing = operator_page.post(
        "/containers/new/",
        {"image": "dockpilot-test/absent:1", "restart": "no", "labels": ""},
    )
    privileged = operator_page.post(
        "/containers/new/",
        {"image": test_image, "volumes": "/etc:/host-etc", "restart": "no"},
    )

    assert bad_port.status_code == 400
    assert "write 8080:80" in field_error(bad_port, "ports")
    assert "pull or build it first" in field_error(missing, "image")
    assert field_error(privileged, "volumes")


@pytest.mark.engine
def test_logs_page_shows_lines_and_downloads(admin_page, make_container, unique_name):
    import time

    make_container(
        unique_name, command=["sh", "-c", "echo first; echo oops >&2; sleep 60"]
    )
    time.sleep(0.5)

    page = admin_page.get(f"/containers/{unique_name}/logs/")
    stdout_only = admin_page.get(
        f"/containers/{unique_name}/logs/?filtered=1&stdout=on&tail=50"
    )
    download = admin_page.get(f"/containers/{unique_name}/logs/download/")

    assert b"first" in page.content and b"oops" in page.content
    assert b"oops" not in stdout_only.content
    assert b"/ws/containers/" in page.content
    assert download["Content-Disposition"].startswith("attachment")
    # stdout and stderr are separate pipes: the engine may log them in
    # either order, so only what the download holds is asserted.
    assert sorted(download.content.decode().splitlines()) == ["first", "oops"]


@pytest.mark.engine
def test_volumes_and_networks_are_created_and_removed_from_pages(
    operator_page, unique_name, docker_client
):
    made = operator_page.post(
        "/volumes/", {"name": unique_name, "labels": f"dockpilot.test={RUN_ID}"}
    )
    listed = operator_page.get("/volumes/")
    removed = operator_page.post(f"/volumes/{unique_name}/remove/")
    net = operator_page.post(
        "/networks/", {"name": unique_name, "labels": f"dockpilot.test={RUN_ID}"}
    )
    detail = operator_page.get(f"/networks/{unique_name}/")
    gone = operator_page.post(f"/networks/{unique_name}/remove/")

    assert made.status_code == 302 and unique_name.encode() in listed.content
    assert removed.status_code == 302
    assert net.status_code == 302 and detail.status_code == 200
    assert gone.status_code == 302
    assert not docker_client.api.networks(names=[unique_name])


@pytest.mark.engine
def test_a_viewer_sees_no_prune_or_create_on_volumes(viewer_page, docker_client):
    response = viewer_page.get("/volumes/")

    assert b"New volume" not in response.content
    assert b"Prune" not in response.content
    assert viewer_page.post("/volumes/prune/").status_code == 403


@pytest.mark.engine
def test_images_list_marks_use_and_the_detail_opens(admin_page, test_image):
    listing = admin_page.get("/images/")
    detail = admin_page.get(f"/images/{test_image}/")

    assert test_image.encode() in listing.content
    assert detail.status_code == 200 and b"History" in detail.content


def test_the_engine_down_is_a_banner_and_503(admin_page, relay, relayed_default):
    relay.stop()

    response = admin_page.get("/containers/")

    assert response.status_code == 503
    assert b"The Docker engine cannot be reached" in response.content


def test_first_run_setup_creates_the_admin_and_logs_in(db, settings, tmp_path):
    from apps.accounts import setup

    settings.DATA_DIR = tmp_path
    token = setup.ensure_setup_token()
    client = Client()

    wrong = client.post(
        "/setup/",
        {
            "token": "nope",
            "username": "root",
            "password": "x" * 12,
            "confirm": "x" * 12,
        },
    )
    done = client.post(
        "/setup/",
        {
            "token": token,
            "username": "root",
            "password": "a-long-first-password",
            "confirm": "a-long-first-password",
        },
    )

    assert "wrong setup token" in field_error(wrong, "token")
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/containers/").status_code in (200, 503)
    assert Client().get("/setup/").status_code == 302


def test_a_wrong_current_password_is_shown_next_to_its_field(viewer_page):
    response = viewer_page.post(
        "/password/",
        {"old_password": "wrong", "new_password": "x" * 12, "confirm": "x" * 12},
    )

    assert "current password is wrong" in field_error(response, "old_password")


def test_the_password_change_keeps_the_session(viewer_page, viewer_user):
    new = "another-long-password-7"
    response = viewer_page.post(
        "/password/", {"old_password": PASSWORD, "new_password": new, "confirm": new}
    )

    assert response.status_code == 302
    assert viewer_page.get("/password/").status_code == 200
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(new)
