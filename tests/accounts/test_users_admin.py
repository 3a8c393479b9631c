"""Managing users in the Django admin; changes reach API tokens at once."""

import pytest
from django.test import Client

from apps.accounts.models import Role, User
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def site_admin(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def change_form(user: User, **changes) -> dict:
    """The fields the admin's change page posts back for ``user``."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_admin_lists_users_with_their_roles(site_admin, operator_user, viewer_user):
    response = site_admin.get(USERS)

    assert response.status_code == 200
    page = response.content.decode()
    assert operator_user.username in page
    assert viewer_user.username in page
    assert "Operator" in page
    assert "Viewer" in page


def test_admin_filters_users_by_role(site_admin, operator_user, viewer_user):
    response = site_admin.get(USERS, {"role__exact": Role.VIEWER})

    page = response.content.decode()
    assert viewer_user.username in page
    assert operator_user.username not in page


def test_admin_creates_a_user_with_a_role_who_can_log_in(site_admin, anon_client):
    response = site_admin.post(
        f"{USERS}add/",
        {
            "username": "new-operator",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.OPERATOR,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="new-operator")
    assert user.role == Role.OPERATOR
    login = anon_client.post(
        "/api/v1/auth/login",
        {"username": "new-operator", "password": PASSWORD},
        format="json",
    )
    assert login.status_code == 200


def test_role_change_in_the_admin_applies_to_the_next_api_request(
    site_admin, operator_user
):
    api = client_for(operator_user)
    assert api.post("/api/v1/containers/", {}, format="json").status_code == 400

    response = site_admin.post(
        f"{USERS}{operator_user.pk}/change/",
        change_form(operator_user, role=Role.VIEWER),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert api.post("/api/v1/containers/", {}, format="json").status_code == 403


def test_deactivation_in_the_admin_ends_the_users_api_access(site_admin, operator_user):
    api = client_for(operator_user)
    assert api.get("/api/v1/auth/me").status_code == 200

    response = site_admin.post(
        f"{USERS}{operator_user.pk}/change/", change_form(operator_user, is_active="")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert api.get("/api/v1/auth/me").status_code == 401


def test_users_who_are_not_staff_cannot_open_the_admin(operator_user):
    client = Client()
    client.force_login(operator_user)

    response = client.get(USERS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_anonymous_visitors_are_sent_to_the_admin_login(db):
    response = Client().get(USERS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_can_log_in_to_the_admin_with_a_password(admin_user):
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.username, "password": PASSWORD},
    )

    assert response.status_code == 302
    assert client.get(USERS).status_code == 200
