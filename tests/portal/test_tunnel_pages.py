"""The tunnel pages through Django's test client and session login.

They go through the tunnel services as ``/api/v1/tunnels/`` does: the same
checks (another team's tunnel is a 404), the same audit rows; a page shows
only the buttons its user may use, and never a secret.
"""

from __future__ import annotations

import re

import pytest
from guardian.shortcuts import assign_perm

from apps.accounts.models import Role, Team
from apps.audit.models import AuditLog, Outcome
from apps.containers.environments import default_environment
from apps.jobs.models import Job, Status
from apps.jobs.services import execute
from apps.tunnels.models import TunnelConfig, TunnelStatus
from tests.conftest import grant_environment, make_user
from tests.jobs.services import free_port
from tests.tunnels.conftest import (  # noqa: F401 - fixtures
    CF_ACCOUNT,
    CF_TOKEN,
    CF_ZONE,
    cleanup_tunnels,
    cloudflare,
    fetch_until,
    http_container,
    sshd,
)
from tests.tunnels.keys import new_private_key

from .test_pages import field_error

pytestmark = pytest.mark.django_db

PRIVATE_KEY = new_private_key()
HOST_KEY = "SHA256:" + "A" * 43


def tunnel_of(owner, name: str, status: str = TunnelStatus.STOPPED, **extra):
    """A tunnel stored straight in the database, as a create would leave it."""
    return TunnelConfig.objects.create(
        name=name,
        owner=owner,
        environment=default_environment(),
        provider=extra.pop("provider", "cloudflare_quick"),
        container_id="c" * 64,
        container_name=f"{name}-app",
        target_port=8080,
        status=status,
        desired_running=status == TunnelStatus.RUNNING,
        **extra,
    )


def buttons(html: str) -> set[str]:
    return set(re.findall(r"data-tunnel-(start|stop|delete)\b", html))


def test_a_viewer_with_a_grant_sees_the_tunnel_but_no_buttons(
    operator_user, viewer_user, viewer_page, operator_page
):
    stopped = tunnel_of(operator_user, "web-stopped")
    running = tunnel_of(
        operator_user,
        "web-running",
        TunnelStatus.RUNNING,
        public_url="https://alpha-bravo.trycloudflare.com",
    )
    for tunnel in (stopped, running):
        assign_perm("tunnels.view_tunnelconfig", viewer_user, tunnel)

    listing = viewer_page.get("/tunnels/").content.decode()
    page = viewer_page.get(f"/tunnels/{running.pk}/").content.decode()

    assert "web-stopped" in listing and "web-running" in listing
    assert 'href="https://alpha-bravo.trycloudflare.com"' in listing
    assert buttons(listing) == set() and buttons(page) == set()
    assert "New tunnel" not in listing and "/edit/" not in page
    # The owner, on the same pages, has what each state allows.
    owner_list = operator_page.get("/tunnels/").content.decode()
    assert buttons(owner_list) == {"start", "stop", "delete"}
    owner_page = operator_page.get(f"/tunnels/{running.pk}/").content.decode()
    assert buttons(owner_page) == {"stop"}


def test_a_viewer_may_not_start_a_tunnel_it_only_sees(
    operator_user, viewer_user, viewer_page
):
    tunnel = tunnel_of(operator_user, "web-seen")
    assign_perm("tunnels.view_tunnelconfig", viewer_user, tunnel)

    response = viewer_page.post(f"/tunnels/{tunnel.pk}/start/")

    assert response.status_code == 403
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.STOPPED and not tunnel.desired_running
    row = AuditLog.objects.get(action="tunnel.start")
    assert row.outcome == Outcome.FAILURE and row.actor == viewer_user


def test_another_teams_tunnel_is_404_on_every_page(operator_user, operator_page):
    blue = Team.objects.create(name="blue")
    other = make_user("olga-other", Role.OPERATOR)
    grant_environment(other, ("view", "operate", "change"))
    other.groups.add(blue)
    theirs = tunnel_of(other, "their-web")

    assert "their-web" not in operator_page.get("/tunnels/").content.decode()
    for path in ("", "edit/"):
        assert operator_page.get(f"/tunnels/{theirs.pk}/{path}").status_code == 404
    for action in ("start", "stop", "delete"):
        response = operator_page.post(f"/tunnels/{theirs.pk}/{action}/")
        assert response.status_code == 404, action
    assert TunnelConfig.objects.filter(pk=theirs.pk, status="stopped").exists()


@pytest.mark.django_db(transaction=True)
def test_create_start_stop_and_delete_from_the_pages_are_audited(
    operator_user,
    operator_page,
    cloudflare,  # noqa: F811
    http_container,  # noqa: F811
    cleanup_tunnels,  # noqa: F811
):
    form = operator_page.get("/tunnels/new/").content.decode()
    assert f'value="{http_container["name"]}"' in form

    created = operator_page.post(
        "/tunnels/new/",
        {
            "name": "web-page",
            "provider_choice": "cloudflare_quick",
            "container": http_container["name"],
            "target_port": "8080",
        },
    )
    assert created.status_code == 302, created.content.decode()[-2000:]
    tunnel = TunnelConfig.objects.get(name="web-page")
    assert created["Location"] == f"/tunnels/{tunnel.pk}/"

    operator_page.post(f"/tunnels/{tunnel.pk}/start/")
    execute(Job.objects.get(kind="tunnel_start").pk, "test-worker")
    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.RUNNING, tunnel.status_reason
    page = operator_page.get(f"/tunnels/{tunnel.pk}/").content.decode()
    assert f'href="{tunnel.public_url}"' in page
    assert "answered 200" in page  # the provider's own output

    operator_page.post(f"/tunnels/{tunnel.pk}/stop/")
    stop_job = Job.objects.get(kind="tunnel_stop")
    execute(stop_job.pk, "test-worker")
    assert Job.objects.get(pk=stop_job.pk).status == Status.SUCCEEDED
    deleted = operator_page.post(f"/tunnels/{tunnel.pk}/delete/")
    assert deleted["Location"] == "/tunnels/"

    rows = AuditLog.objects.filter(resource_type="tunnel", actor=operator_user)
    assert {(row.action, row.outcome) for row in rows} >= {
        ("tunnel.create", Outcome.SUCCESS),
        ("tunnel.start", Outcome.SUCCESS),
        ("tunnel.stop", Outcome.SUCCESS),
        ("tunnel.delete", Outcome.SUCCESS),
    }
    assert not TunnelConfig.objects.filter(pk=tunnel.pk).exists()


def test_create_errors_are_shown_next_to_their_field_without_the_secret(
    operator_page, make_container, operator_user, unique_name
):
    make_container(unique_name, owner=operator_user)

    response = operator_page.post(
        "/tunnels/new/",
        {
            "name": "web-ssh",
            "provider_choice": "ssh",
            "container": unique_name,
            "target_port": "8080",
            "user": "tunnel",
            "port": "22",
            "host_key": HOST_KEY,
            "remote_port": "9000",
            "private_key": PRIVATE_KEY,
        },
    )

    assert response.status_code == 400
    assert field_error(response, "host") == "This field is required."
    html = response.content.decode()
    assert PRIVATE_KEY.splitlines()[1] not in html
    assert not TunnelConfig.objects.filter(name="web-ssh").exists()


def test_a_container_out_of_reach_is_not_offered_nor_accepted(
    operator_page, make_container, unique_name
):
    make_container(unique_name)  # made outside the portal: admins only

    assert unique_name not in operator_page.get("/tunnels/new/").content.decode()
    response = operator_page.post(
        "/tunnels/new/",
        {
            "name": "web-x",
            "provider_choice": "cloudflare_quick",
            "container": unique_name,
            "target_port": "8080",
        },
    )
    assert response.status_code == 400
    assert field_error(response, "container")


def test_secrets_never_reach_the_html_and_the_edit_form_says_one_is_set(
    operator_user, operator_page
):
    from apps.tunnels.services import _seal_secrets

    named = tunnel_of(
        operator_user,
        "web-named",
        provider="cloudflare_named",
        hostname="app.example.test",
        options={"account_id": CF_ACCOUNT, "zone_id": CF_ZONE},
        secrets_sealed=_seal_secrets({"token": CF_TOKEN}),
    )
    ssh = tunnel_of(
        operator_user,
        "web-ssh",
        provider="ssh",
        options={"host": "127.0.0.1", "port": 22, "user": "t", "host_key": HOST_KEY},
        secrets_sealed=_seal_secrets({"private_key": PRIVATE_KEY}),
    )

    pages = [
        operator_page.get(path).content.decode()
        for tunnel in (named, ssh)
        for path in (f"/tunnels/{tunnel.pk}/", f"/tunnels/{tunnel.pk}/edit/")
    ] + [operator_page.get("/tunnels/").content.decode()]

    for html in pages:
        assert CF_TOKEN not in html
        assert all(line not in html for line in PRIVATE_KEY.splitlines()[1:-1])
    edit = pages[1]
    assert "A value is set; it is never shown." in edit
    assert 'type="password" name="token"' in edit and 'name="private_key"' not in edit


def test_saving_the_edit_form_keeps_a_secret_left_empty(operator_user, operator_page):
    from apps.tunnels.services import _seal_secrets, open_secrets

    tunnel = tunnel_of(
        operator_user,
        "web-named",
        provider="cloudflare_named",
        hostname="app.example.test",
        options={"account_id": CF_ACCOUNT, "zone_id": CF_ZONE},
        secrets_sealed=_seal_secrets({"token": CF_TOKEN}),
    )

    saved = operator_page.post(
        f"/tunnels/{tunnel.pk}/edit/",
        {
            "name": "web-named",
            "target_port": "9090",
            "hostname": "app.example.test",
            "account_id": CF_ACCOUNT,
            "zone_id": CF_ZONE,
            "token": "",
        },
    )

    assert saved.status_code == 302, saved.content.decode()[-1500:]
    tunnel.refresh_from_db()
    assert tunnel.target_port == 9090
    assert open_secrets(tunnel) == {"token": CF_TOKEN}
    row = AuditLog.objects.get(action="tunnel.update")
    assert row.outcome == Outcome.SUCCESS and CF_TOKEN not in str(row.details)


def test_the_delete_button_names_what_goes_at_the_provider(
    operator_user, operator_page
):
    tunnel = tunnel_of(
        operator_user,
        "web-named",
        provider="cloudflare_named",
        hostname="app.example.test",
        created_at_provider={"tunnel_id": "tid-123", "dns_record_ids": ["r1"]},
    )

    html = operator_page.get("/tunnels/").content.decode()

    confirm = re.search(r'data-tunnel-delete data-confirm="([^"]*)"', html)
    assert confirm is not None
    assert "web-named" in confirm.group(1) and "tid-123" in confirm.group(1)
    assert "app.example.test" in confirm.group(1)
    assert tunnel.pk


@pytest.mark.django_db(transaction=True)
def test_an_ssh_key_pasted_on_one_line_still_carries_the_tunnel(
    operator_page,
    sshd,  # noqa: F811
    http_container,  # noqa: F811
    cleanup_tunnels,  # noqa: F811
):
    remote_port = free_port()
    # A browser drops the line breaks of text pasted into a password field.
    flattened = sshd.client_key.replace("\n", "")

    created = operator_page.post(
        "/tunnels/new/",
        {
            "name": "web-ssh",
            "provider_choice": "ssh",
            "container": http_container["name"],
            "target_port": "8080",
            "host": "127.0.0.1",
            "port": str(sshd.port),
            "user": sshd.user,
            "host_key": sshd.fingerprint,
            "remote_port": str(remote_port),
            "private_key": flattened,
        },
    )
    assert created.status_code == 302, created.content.decode()[-2000:]
    tunnel = TunnelConfig.objects.get(name="web-ssh")
    operator_page.post(f"/tunnels/{tunnel.pk}/start/")
    execute(Job.objects.get(kind="tunnel_start").pk, "test-worker")

    tunnel.refresh_from_db()
    assert tunnel.status == TunnelStatus.RUNNING, tunnel.status_reason
    marker = http_container["marker"]
    assert marker in fetch_until(f"http://127.0.0.1:{remote_port}/", marker)
    page = operator_page.get(f"/tunnels/{tunnel.pk}/").content.decode()
    assert sshd.client_key.splitlines()[1] not in page
    operator_page.post(f"/tunnels/{tunnel.pk}/stop/")
    execute(Job.objects.get(kind="tunnel_stop").pk, "test-worker")


def test_the_tunnel_pages_speak_spanish(operator_user, operator_page):
    tunnel = tunnel_of(operator_user, "web-es")

    listing = operator_page.get("/tunnels/", HTTP_ACCEPT_LANGUAGE="es").content
    page = operator_page.get(f"/tunnels/{tunnel.pk}/", HTTP_ACCEPT_LANGUAGE="es")

    assert "<h1>Túneles" in listing.decode() and "Nuevo túnel" in listing.decode()
    html = page.content.decode()
    assert "Salida del proveedor" in html and "Túnel rápido de Cloudflare" in html
    assert "Provider output" not in html


def test_a_name_taken_is_shown_next_to_the_name(
    operator_user, operator_page, make_container, unique_name
):
    make_container(unique_name, owner=operator_user)
    tunnel_of(operator_user, "web-dup")

    response = operator_page.post(
        "/tunnels/new/",
        {
            "name": "web-dup",
            "provider_choice": "cloudflare_quick",
            "container": unique_name,
            "target_port": "8080",
        },
    )

    assert response.status_code == 400
    assert "a tunnel named &#x27;web-dup&#x27; exists" in field_error(response, "name")


def test_a_grantee_gives_the_key_again_to_move_a_tunnel_on_the_edit_page(
    operator_user,
):
    from apps.tunnels.services import _seal_secrets

    from .conftest import session_client

    tunnel = tunnel_of(
        operator_user,
        "web-ssh",
        provider="ssh",
        options={
            "host": "127.0.0.1",
            "port": 22,
            "user": "t",
            "host_key": HOST_KEY,
            "remote_port": 9000,
        },
        secrets_sealed=_seal_secrets({"private_key": PRIVATE_KEY}),
    )
    grantee = make_user("gina-grantee", Role.OPERATOR)
    grant_environment(grantee, ("view", "operate", "change"))
    for verb in ("view", "change"):
        assign_perm(f"tunnels.{verb}_tunnelconfig", grantee, tunnel)
    page = session_client(grantee)
    form = {
        "name": "web-ssh",
        "target_port": "8080",
        "host": "127.0.0.2",
        "port": "22",
        "user": "t",
        "host_key": HOST_KEY,
        "remote_port": "9000",
    }

    refused = page.post(f"/tunnels/{tunnel.pk}/edit/", form)
    saved = page.post(
        f"/tunnels/{tunnel.pk}/edit/", {**form, "private_key": new_private_key()}
    )

    assert refused.status_code == 400
    assert "provide the private_key again" in field_error(refused, "private_key")
    assert saved.status_code == 302, saved.content.decode()[-1500:]
    tunnel.refresh_from_db()
    assert tunnel.options["host"] == "127.0.0.2"
