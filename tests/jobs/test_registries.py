"""Registry credentials: stored sealed, never returned, used only as intended."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.registries.models import RegistryCredential
from apps.registries.services import login_for
from dockpilot.errors import BadRequest, NotFound

pytestmark = pytest.mark.django_db
SECRET = "s3cret-registry-password"


def create(client, **extra):
    body = {
        "name": "dpt-reg",
        "registry": "127.0.0.1:5999",
        "username": "u",
        "secret": SECRET,
        **extra,
    }
    return client.post("/api/v1/registries/", body, format="json")


def test_the_secret_is_sealed_at_rest_and_never_returned(operator_client):
    response = create(operator_client)

    assert response.status_code == 201, response.json()
    assert SECRET not in response.content.decode()
    listed = operator_client.get("/api/v1/registries/").content.decode()
    assert SECRET not in listed
    stored = RegistryCredential.objects.get()
    assert SECRET not in stored.secret_sealed
    audit = AuditLog.objects.filter(action="registry.create").latest("id")
    assert SECRET not in str(audit.details)


def test_a_login_opens_only_for_its_owner_and_its_registry(
    operator_client, operator_user, viewer_user
):
    pk = create(operator_client).json()["id"]

    login = login_for(operator_user, pk, "127.0.0.1:5999")

    assert login.password == SECRET
    with pytest.raises(NotFound):
        login_for(viewer_user, pk, "127.0.0.1:5999")
    with pytest.raises(BadRequest, match=r"is for 127\.0\.0\.1:5999"):
        login_for(operator_user, pk, "evil.example:443")


def test_others_credentials_are_not_found(operator_client, admin_client):
    pk = create(admin_client).json()["id"]

    assert operator_client.get(f"/api/v1/registries/{pk}/").status_code == 404
    assert operator_client.delete(f"/api/v1/registries/{pk}/").status_code == 404
    assert admin_client.get(f"/api/v1/registries/{pk}/").status_code == 200


def test_update_and_delete_are_audited(operator_client):
    pk = create(operator_client).json()["id"]

    patched = operator_client.patch(
        f"/api/v1/registries/{pk}/", {"secret": "another-secret"}, format="json"
    )
    deleted = operator_client.delete(f"/api/v1/registries/{pk}/")

    assert patched.status_code == 200 and deleted.status_code == 204
    assert (
        AuditLog.objects.filter(action="registry.update")
        .latest("id")
        .details["secret_changed"]
    )
    assert AuditLog.objects.filter(action="registry.delete").exists()


def test_a_duplicate_name_is_a_conflict(operator_client):
    create(operator_client)

    assert create(operator_client).status_code == 409


def test_a_pull_with_a_credential_for_another_registry_is_refused(
    operator_client, admin_client
):
    pk = create(admin_client).json()["id"]

    response = admin_client.post(
        "/api/v1/images/pull",
        {"image": "127.0.0.1:6000/dpt/x:1", "credential": pk},
        format="json",
    )

    assert response.status_code == 400
    assert "use a credential for that registry" in response.json()["message"]
