"""Ownership, teams and grants decide what each user sees and does."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from apps.accounts import access
from apps.accounts.models import Role, Team
from apps.audit.models import AuditLog
from apps.containers.environments import default_environment
from tests.conftest import LABELS, client_for, grant_environment, make_user, own

pytestmark = pytest.mark.django_db
URL = "/api/v1/containers/"


def names(response) -> set[str]:
    return {item["name"] for item in response.json()["results"]}


@pytest.fixture
def two(make_container, unique_name, operator_user):
    """One container the operator owns, one the portal did not create."""
    mine = make_container(f"{unique_name}-mine", owner=operator_user)
    theirs = make_container(f"{unique_name}-theirs")
    return mine, theirs


def test_lists_show_only_what_the_user_may_see(
    two, unique_name, operator_client, admin_client
):
    query = {"name": unique_name}

    assert names(operator_client.get(URL, query)) == {f"{unique_name}-mine"}
    assert names(admin_client.get(URL, query)) == {
        f"{unique_name}-mine",
        f"{unique_name}-theirs",
    }


@pytest.mark.parametrize("by", ["id", "name"])
def test_a_container_out_of_sight_is_not_found_like_a_missing_one(
    two, unique_name, operator_client, by
):
    theirs = two[1] if by == "id" else f"{unique_name}-theirs"

    hidden = operator_client.post(f"{URL}{theirs}/stop/", {}, format="json")
    missing = operator_client.post(f"{URL}dpt-none-{by}/stop/", {}, format="json")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]
    assert hidden.json()["message"].replace(theirs, "X") == missing.json()[
        "message"
    ].replace(f"dpt-none-{by}", "X")


def test_an_outsider_does_not_see_the_environment(two):
    outsider = client_for(make_user("olga-outsider", Role.OPERATOR))

    response = outsider.get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "environment_not_found"
    assert outsider.get("/api/v1/environments/").json()["results"] == []


def test_a_team_owns_what_its_members_see(two, unique_name):
    member = make_user("tess-member", Role.OPERATOR)
    other = make_user("otto-other", Role.OPERATOR)
    for user in (member, other):
        grant_environment(user, ("view",))
    team = Team.objects.create(name="web")
    member.groups.add(team)
    row = access.ownership(default_environment(), "container", two[0])
    row.owner_user, row.owner_team = None, team
    row.save()

    assert names(client_for(member).get(URL, {"name": unique_name})) == {
        f"{unique_name}-mine"
    }
    assert names(client_for(other).get(URL, {"name": unique_name})) == set()


def test_a_team_grant_on_the_environment_reaches_its_members():
    member = make_user("tess-member", Role.VIEWER)
    team = Team.objects.create(name="readers")
    member.groups.add(team)
    assign_perm("containers.view_environment", team, default_environment())

    assert client_for(member).get("/api/v1/images/").status_code == 200


def test_a_viewer_granted_operate_still_only_reads(two, viewer_user):
    row = access.ownership(default_environment(), "container", two[0])
    assign_perm("containers.operate_resourceownership", viewer_user, row)

    response = client_for(viewer_user).post(f"{URL}{two[0]}/start/")

    assert response.status_code == 403
    assert "may only read" in response.json()["message"]


def test_creating_and_removing_through_the_portal_keeps_ownership_in_step(
    operator_client, operator_user, test_image, unique_name
):
    created = operator_client.post(
        URL,
        {"image": test_image, "name": unique_name, "labels": LABELS},
        format="json",
    )
    assert created.status_code == 201, created.json()
    ident = created.json()["id"]
    row = access.ownership(default_environment(), "container", ident)
    assert row.owner_user == operator_user

    assert operator_client.delete(f"{URL}{unique_name}/").status_code == 204
    assert access.ownership(default_environment(), "container", ident) is None


def test_an_admin_assigns_a_container_made_outside_the_portal(
    two, admin_client, operator_client, operator_user
):
    theirs = two[1]
    assert operator_client.get(f"{URL}{theirs}/").status_code == 404

    response = admin_client.post(
        "/api/v1/ownerships/",
        {
            "object_type": "container",
            "object_id": theirs,
            "owner_user": operator_user.username,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert operator_client.get(f"{URL}{theirs}/").status_code == 200
    row = AuditLog.objects.get(action="ownership.assign")
    assert row.details["before"] == {"owner_user": None, "owner_team": None}
    assert row.details["after"]["owner_user"] == operator_user.username


def test_an_owner_shares_a_container_but_cannot_grant_more_than_they_hold(
    two, operator_client, viewer_user
):
    grants = "/api/v1/grants/"
    share = {
        "object_type": "container",
        "object_id": two[0],
        "permission": "view",
        "user": viewer_user.username,
    }
    beyond = {
        "object_type": "environment",
        "object_id": "local",
        "permission": "delete",
        "user": viewer_user.username,
    }

    assert operator_client.post(grants, share, format="json").status_code == 201
    assert operator_client.post(grants, beyond, format="json").status_code == 403
    assert client_for(viewer_user).get(f"{URL}{two[0]}/").status_code == 200
    hidden = {**share, "object_id": two[1]}
    assert operator_client.post(grants, hidden, format="json").status_code == 404


def test_the_last_admin_is_neither_demoted_nor_deleted(admin_user, admin_client):
    demote = admin_client.patch(
        f"/api/v1/users/{admin_user.pk}/", {"role": "viewer"}, format="json"
    )
    other = make_user("second-admin", Role.ADMIN)
    delete_self = admin_client.delete(f"/api/v1/users/{admin_user.pk}/")

    assert demote.status_code == 409
    assert demote.json()["code"] == "last_admin"
    assert delete_self.status_code == 409
    assert admin_client.delete(f"/api/v1/users/{other.pk}/").status_code == 204


def test_a_role_change_is_audited_with_before_and_after(admin_client, operator_user):
    response = admin_client.patch(
        f"/api/v1/users/{operator_user.pk}/", {"role": "viewer"}, format="json"
    )

    assert response.status_code == 200
    row = AuditLog.objects.get(action="user.update")
    assert row.details["before"]["role"] == "operator"
    assert row.details["after"]["role"] == "viewer"


def test_teams_are_made_with_members(admin_client, operator_user):
    response = admin_client.post(
        "/api/v1/teams/",
        {"name": "web", "members": [operator_user.username]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["members"] == [operator_user.username]
    assert list(operator_user.groups.values_list("name", flat=True)) == ["web"]


def test_a_network_lists_only_the_members_the_user_sees(
    docker_client, make_container, unique_name, operator_user, operator_client
):
    network = docker_client.api.create_network(f"{unique_name}-net", labels=LABELS)
    own(operator_user, "network", network["Id"])
    mine = make_container(f"{unique_name}-a", owner=operator_user)
    theirs = make_container(f"{unique_name}-b")
    for ident in (mine, theirs):
        docker_client.api.connect_container_to_network(ident, network["Id"])

    document = operator_client.get(f"/api/v1/networks/{network['Id']}/").json()

    assert set(document["Containers"]) == {mine}
    assert [c["id"] for c in document["attached_containers"]] == [mine]
