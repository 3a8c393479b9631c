"""Users, teams, grants (admins) and personal API tokens (everyone) as pages:
the same services as the REST routes, so the same checks and audit rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import ApiToken, Team, User
from apps.audit.models import AuditLog
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/users/", "/teams/", "/grants/"]


def audited(action: str) -> AuditLog:
    return AuditLog.objects.filter(action=action).latest("id")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_only_admins_manage_people(admin_page, operator_page, viewer_page, url):
    assert admin_page.get(url).status_code == 200
    assert operator_page.get(url).status_code == 403
    assert viewer_page.get(url).status_code == 403
    assert operator_page.post(url, {"username": "x"}).status_code == 403
    assert b'href="/users/"' not in viewer_page.get("/tokens/").content


def test_an_admin_creates_a_user_and_a_weak_password_is_shown_in_place(
    admin_page, admin_user
):
    weak = admin_page.post("/users/", {"username": "nina", "password": "short"})
    made = admin_page.post(
        "/users/",
        {"username": "nina", "password": "a-good-long-pass-9", "role": "operator"},
    )

    assert weak.status_code == 400 and b"field has-error" in weak.content
    assert made.status_code == 302
    assert User.objects.get(username="nina").role == "operator"
    assert audited("user.create").actor_username == admin_user.username


def test_an_admin_deactivates_a_user_and_cannot_delete_themselves(
    admin_page, admin_user, viewer_user
):
    page = admin_page.post(
        f"/users/{viewer_user.pk}/",
        {"form": "update", "role": "viewer", "email": ""},
    )
    own = admin_page.get(f"/users/{admin_user.pk}/")

    assert page.status_code == 302
    viewer_user.refresh_from_db()
    assert not viewer_user.is_active
    assert audited("user.update").resource_name == viewer_user.username
    assert b"/delete/" not in own.content


def test_deleting_a_user_confirms_naming_them(admin_page, viewer_user):
    page = admin_page.get(f"/users/{viewer_user.pk}/")
    gone = admin_page.post(f"/users/{viewer_user.pk}/delete/")

    assert f"Delete the user '{viewer_user.username}'?".encode() in page.content
    assert gone.status_code == 302
    assert not User.objects.filter(pk=viewer_user.pk).exists()
    assert audited("user.delete").resource_name == viewer_user.username


def test_an_admin_makes_a_team_with_members_and_removes_it(admin_page, viewer_user):
    made = admin_page.post(
        "/teams/", {"name": "blue", "members": [viewer_user.username]}
    )
    team = Team.objects.get(name="blue")
    gone = admin_page.post(f"/teams/{team.pk}/delete/")

    assert made.status_code == 302
    assert audited("team.create").resource_name == "blue"
    assert gone.status_code == 302 and not Team.objects.filter(name="blue").exists()


def test_an_admin_grants_an_environment_and_takes_it_back(admin_page, operator_user):
    from apps.accounts import access
    from apps.containers.environments import default_environment

    env = default_environment()
    made = admin_page.post(
        "/grants/",
        {
            "permission": "change",
            "object_type": "environment",
            "object_id": env.name,
            "user": operator_user.username,
        },
    )
    listing = admin_page.get("/grants/")
    grant_id = next(
        g["id"]
        for g in listing.context["grants"]
        if g["permission"] == "change" and g["user"] == operator_user.username
    )
    revoked = admin_page.post(f"/grants/{grant_id}/revoke/")

    assert made.status_code == 302
    assert audited("grant.create").details["permission"] == "change"
    assert revoked.status_code == 302
    assert "change" not in access.held(User.objects.get(pk=operator_user.pk), env)


def test_a_grant_to_nobody_is_refused_in_place(admin_page):
    response = admin_page.post(
        "/grants/",
        {"permission": "view", "object_type": "environment", "object_id": "local"},
    )

    assert response.status_code == 400
    assert b"Give either a user or a team" in response.content


def test_a_viewer_makes_a_token_shown_once_and_revokes_it(viewer_page, viewer_user):
    expires = (timezone.now() + timedelta(days=30)).date().isoformat()
    body = {"name": "ci", "scopes": "read", "expires_at": expires}

    wrong = viewer_page.post("/tokens/", {**body, "password": "not-it"})
    made = viewer_page.post("/tokens/", {**body, "password": PASSWORD})
    later = viewer_page.get("/tokens/")
    token = ApiToken.objects.get(owner=viewer_user, name="ci")
    revoked = viewer_page.post(f"/tokens/{token.pk}/revoke/")

    assert wrong.status_code == 400 and b"password is wrong" in wrong.content
    secret = made.context["secret"]
    assert secret.startswith("dpt_") and secret.encode() in made.content
    assert made["Cache-Control"] == "no-store"
    assert secret.encode() not in later.content
    assert token.prefix.encode() in later.content
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert audited("token.revoke").actor_username == viewer_user.username


def test_nobody_revokes_another_users_token(operator_page, viewer_page):
    expires = (timezone.now() + timedelta(days=3)).date().isoformat()
    viewer_page.post(
        "/tokens/",
        {"name": "mine", "scopes": "read", "expires_at": expires, "password": PASSWORD},
    )
    token = ApiToken.objects.get(name="mine")

    assert operator_page.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
