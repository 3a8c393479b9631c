"""What a tunnel's settings may say, and who may send its stored secret where.

A grant of ``change`` on someone's tunnel does not let the grantee point the
owner's SSH key or Cloudflare token at a server of their choosing: moving
where a secret goes takes the secret again, unless the owner or an admin
does it.
"""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.models import Role
from apps.tunnels import services
from apps.tunnels.models import TunnelConfig
from apps.tunnels.services import open_secrets
from dockpilot.errors import BadRequest
from tests.conftest import client_for, grant_environment, make_user

from .conftest import CF_ACCOUNT, CF_ZONE
from .keys import key_with_passphrase, new_private_key
from .test_cloudflare_tunnels import named_body

pytestmark = pytest.mark.django_db(transaction=True)

# Every interface of the SSH server: what the tests try to open.
WILDCARD = "0.0.0.0"  # noqa: S104 - the address refused
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNvbWUta2V5LW9mLWFub3RoZXItc2VydmVy"


def ssh_body(container, **options):
    return {
        "name": "web-ssh",
        "provider": "ssh",
        "container": container["name"],
        "target_port": 8080,
        "options": {
            "host": "127.0.0.1",
            "port": 2222,
            "user": "tunnel",
            "host_key": "SHA256:" + "A" * 43,
            "remote_port": 18080,
            **options,
        },
        "private_key": new_private_key(),
    }


@pytest.fixture
def grantee(operator_user):
    """Another operator of the engine, granted view and change on a tunnel."""
    user = make_user("gina-grantee", Role.OPERATOR)
    grant_environment(user, ("view", "operate", "change"))
    return user


def share(owner_client, tunnel_id, grantee):
    for permission in ("view", "change"):
        granted = owner_client.post(
            "/api/v1/grants/",
            {
                "permission": permission,
                "object_type": "tunnel",
                "object_id": str(tunnel_id),
                "user": grantee.username,
            },
            format="json",
        )
        assert granted.status_code == 201, granted.content


@pytest.fixture
def shared_ssh(operator_client, http_container, grantee):
    created = operator_client.post(
        "/api/v1/tunnels/", ssh_body(http_container), format="json"
    )
    assert created.status_code == 201, created.content
    share(operator_client, created.json()["id"], grantee)
    return created.json()["id"]


# Sending the stored secret elsewhere ------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"host": "127.0.0.2", "host_key": HOST_KEY},
        {"port": 2200},
        {"user": "root"},
        {"host_key": HOST_KEY},
    ],
)
def test_a_grantee_cannot_send_the_owners_key_to_another_server(
    shared_ssh, grantee, change
):
    before = TunnelConfig.objects.get(pk=shared_ssh)

    response = client_for(grantee).patch(
        f"/api/v1/tunnels/{shared_ssh}/", {"options": change}, format="json"
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "secret_required"
    assert "provide the private_key again" in response.json()["message"]
    after = TunnelConfig.objects.get(pk=shared_ssh)
    assert after.options == before.options
    assert after.secrets_sealed == before.secrets_sealed


def test_a_grantee_who_gives_a_key_again_may_change_the_server(shared_ssh, grantee):
    key = new_private_key()

    response = client_for(grantee).patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"options": {"host": "127.0.0.2", "host_key": HOST_KEY}, "private_key": key},
        format="json",
    )

    assert response.status_code == 200, response.content
    tunnel = TunnelConfig.objects.get(pk=shared_ssh)
    assert tunnel.options["host"] == "127.0.0.2"
    assert open_secrets(tunnel)["private_key"] == key.strip() + "\n"


def test_a_grantee_may_change_what_does_not_move_the_key(shared_ssh, grantee):
    # The same server again, and another remote port: the key goes nowhere new.
    response = client_for(grantee).patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"options": {"host": "127.0.0.1", "remote_port": 18081}, "target_port": 8081},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["options"]["remote_port"] == 18081


def test_the_owner_may_change_the_server_without_giving_the_key_again(
    shared_ssh, operator_client
):
    response = operator_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"options": {"host": "127.0.0.2", "host_key": HOST_KEY}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["options"]["host"] == "127.0.0.2"


def test_an_admin_may_change_the_server_without_giving_the_key_again(
    shared_ssh, admin_client
):
    response = admin_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/", {"options": {"port": 2200}}, format="json"
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "change",
    [
        {"hostname": "evil.example.test"},
        {"options": {"account_id": uuid.uuid4().hex}},
        {"options": {"zone_id": uuid.uuid4().hex}},
    ],
)
def test_a_grantee_cannot_send_the_owners_token_to_another_account(
    operator_client, http_container, grantee, change
):
    created = operator_client.post(
        "/api/v1/tunnels/", named_body(http_container), format="json"
    )
    assert created.status_code == 201, created.content
    tunnel_id = created.json()["id"]
    share(operator_client, tunnel_id, grantee)
    grantee_client = client_for(grantee)

    refused = grantee_client.patch(
        f"/api/v1/tunnels/{tunnel_id}/", change, format="json"
    )
    given = grantee_client.patch(
        f"/api/v1/tunnels/{tunnel_id}/",
        {**change, "token": "the-grantees-own-token"},
        format="json",
    )

    assert refused.status_code == 403, refused.content
    assert "provide the token again" in refused.json()["message"]
    assert given.status_code == 200, given.content


# The private key ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("-----BEGIN nothing PRIVATE KEY-----", "not a private key ssh can read"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nbm9uZQ==\n"
            "-----END OPENSSH PRIVATE KEY-----",
            "not a private key ssh can read",
        ),
        (key_with_passphrase(), "has a passphrase"),
    ],
    ids=["no-key-between", "not-a-key", "passphrase"],
)
def test_a_key_ssh_cannot_use_is_refused_without_being_echoed(
    operator_client, http_container, key, says
):
    body = {**ssh_body(http_container), "private_key": key}

    response = operator_client.post("/api/v1/tunnels/", body, format="json")

    assert response.status_code == 400, response.content
    assert says in response.content.decode()
    for line in key.splitlines()[1:-1] or [key]:
        assert line not in response.content.decode()
    assert not TunnelConfig.objects.exists()


def test_a_key_ssh_cannot_use_is_refused_on_update(operator_client, shared_ssh):
    response = operator_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"private_key": "-----BEGIN nothing PRIVATE KEY-----"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "not a private key ssh can read" in response.content.decode()


# The address the port opens at on the SSH server ------------------------------


@pytest.mark.parametrize("bind", [WILDCARD, "::", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0"])
def test_an_operator_cannot_open_the_port_on_every_interface(
    operator_client, http_container, bind
):
    response = operator_client.post(
        "/api/v1/tunnels/", ssh_body(http_container, remote_bind=bind), format="json"
    )

    assert response.status_code == 403, response.content
    assert "only an admin may bind" in response.json()["message"]
    assert not TunnelConfig.objects.exists()


def test_a_star_is_no_address_to_bind_to(operator_client, http_container):
    response = operator_client.post(
        "/api/v1/tunnels/", ssh_body(http_container, remote_bind="*"), format="json"
    )

    assert response.status_code == 400, response.content


def test_an_operator_binds_the_port_to_one_address(operator_client, http_container):
    response = operator_client.post(
        "/api/v1/tunnels/",
        ssh_body(http_container, remote_bind="127.0.0.1"),
        format="json",
    )

    assert response.status_code == 201, response.content


def test_an_operator_cannot_widen_the_bind_on_update(shared_ssh, operator_client):
    response = operator_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"options": {"remote_bind": WILDCARD}},
        format="json",
    )

    assert response.status_code == 403, response.content
    assert "remote_bind" not in TunnelConfig.objects.get(pk=shared_ssh).options


def test_an_admin_may_open_the_port_on_every_interface(
    admin_client, shared_ssh, operator_client
):
    response = admin_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/",
        {"options": {"remote_bind": WILDCARD}},
        format="json",
    )
    # The owner still edits the rest of a tunnel an admin opened wide.
    later = operator_client.patch(
        f"/api/v1/tunnels/{shared_ssh}/", {"target_port": 8081}, format="json"
    )

    assert response.status_code == 200, response.content
    assert later.status_code == 200, later.content


# Cloudflare named tunnels ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"hostname": "app"}, "full DNS name"),
        ({"hostname": "app.example.123"}, "full DNS name"),
        ({"hostname": "-app.example.test"}, "hostname"),
        ({"hostname": "app.example.test/path"}, "hostname"),
        ({"options": {"account_id": "acct123"}}, "32 hexadecimal digits"),
        ({"options": {"account_id": "g" * 32}}, "32 hexadecimal digits"),
        ({"options": {"account_id": CF_ACCOUNT, "zone_id": "../x"}}, "zone id"),
    ],
)
def test_a_named_tunnel_needs_a_dns_name_and_cloudflare_ids(
    operator_client, http_container, change, says
):
    body = named_body(http_container)
    body.update({k: v for k, v in change.items() if k != "options"})
    body["options"] = {
        "account_id": CF_ACCOUNT,
        "zone_id": CF_ZONE,
        **change.get("options", {}),
    }

    response = operator_client.post("/api/v1/tunnels/", body, format="json")

    assert response.status_code == 400, response.content
    assert says in response.content.decode()
    assert not TunnelConfig.objects.exists()


def test_a_named_tunnel_from_labels_needs_a_dns_name_too(operator_user, http_container):
    # Labels come to the service without the API's serializer.
    data = {
        **named_body(http_container, hostname="app example.test"),
        "token": "a-token",
    }

    with pytest.raises(BadRequest, match="full DNS name"):
        services.create_tunnel(operator_user, data, from_labels=True)

    assert not TunnelConfig.objects.exists()
