"""GET /api/v1/audit/: admins read, filter and page through the log."""

import pytest
from django.utils import timezone

from apps.audit.models import Action, Outcome
from apps.audit.services import record
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit/"


@pytest.fixture
def rows(operator_user, viewer_user):
    """Four rows by two actors over containers, a volume and a login."""
    return [
        record(
            Action.CONTAINER_START,
            actor=operator_user,
            resource_type="container",
            resource_id="c1",
            resource_name="web",
        ),
        record(
            Action.CONTAINER_STOP,
            actor=operator_user,
            resource_type="container",
            resource_id="c2",
            resource_name="db",
            outcome=Outcome.FAILURE,
            reason="engine refused",
        ),
        record(
            Action.VOLUME_CREATE,
            actor=viewer_user,
            resource_type="volume",
            resource_id="data",
        ),
        record(
            Action.AUTH_LOGIN,
            actor=viewer_user,
            resource_type="user",
            resource_id=str(viewer_user.pk),
        ),
    ]


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def actions(response) -> list[str]:
    return [item["action"] for item in results(response)]


def test_admin_reads_the_log_newest_first(admin_client, rows):
    assert actions(admin_client.get(AUDIT)) == [
        "auth.login",
        "volume.create",
        "container.stop",
        "container.start",
    ]


def test_a_row_shows_who_did_what_to_which_resource(admin_client, rows, operator_user):
    item = results(admin_client.get(AUDIT, {"resource_id": "c2"}))[0]

    assert item["actor"] == operator_user.pk
    assert item["actor_username"] == operator_user.username
    assert item["action"] == "container.stop"
    assert item["resource_type"] == "container"
    assert item["resource_name"] == "db"
    assert item["outcome"] == "failure"
    assert item["reason"] == "engine refused"
    assert {"timestamp", "details", "ip", "user_agent", "request_id"} <= set(item)


def test_admin_reads_one_row(admin_client, rows):
    response = admin_client.get(f"{AUDIT}{rows[0].pk}")

    assert response.status_code == 200
    assert response.json()["resource_id"] == "c1"


def test_operator_may_not_read_the_log(operator_client, rows):
    response = operator_client.get(AUDIT)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_viewer_may_not_read_the_log(viewer_client, rows):
    assert viewer_client.get(AUDIT).status_code == 403
    assert viewer_client.get(f"{AUDIT}{rows[0].pk}").status_code == 403


def test_anonymous_may_not_read_the_log(anon_client, rows):
    assert anon_client.get(AUDIT).status_code == 401


def test_the_log_cannot_be_written_through_the_api(admin_client, rows):
    assert admin_client.post(AUDIT, {}, format="json").status_code == 405
    assert admin_client.delete(f"{AUDIT}{rows[0].pk}").status_code == 405
    assert (
        admin_client.patch(
            f"{AUDIT}{rows[0].pk}", {"outcome": "success"}, format="json"
        ).status_code
        == 405
    )


def test_filter_by_actor(admin_client, rows, viewer_user):
    response = admin_client.get(AUDIT, {"actor": viewer_user.username})

    assert actions(response) == ["auth.login", "volume.create"]


def test_filter_by_action(admin_client, rows):
    assert actions(admin_client.get(AUDIT, {"action": "container.stop"})) == [
        "container.stop"
    ]


def test_filter_by_action_family(admin_client, rows):
    response = admin_client.get(AUDIT, {"action": "container.*"})

    assert actions(response) == ["container.stop", "container.start"]


def test_unknown_action_is_a_400_naming_the_field(admin_client, rows):
    response = admin_client.get(AUDIT, {"action": "container.teleport"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("action:")
    assert "container.start" in response.json()["details"]["choices"]


def test_filter_by_resource_type_and_id(admin_client, rows):
    assert actions(admin_client.get(AUDIT, {"resource_type": "volume"})) == [
        "volume.create"
    ]
    assert actions(
        admin_client.get(AUDIT, {"resource_type": "container", "resource_id": "c1"})
    ) == ["container.start"]


def test_filter_by_outcome(admin_client, rows):
    assert actions(admin_client.get(AUDIT, {"outcome": "failure"})) == [
        "container.stop"
    ]


def test_unknown_outcome_is_a_400_naming_the_field(admin_client, rows):
    response = admin_client.get(AUDIT, {"outcome": "meh"})

    assert response.status_code == 400
    assert response.json()["details"]["field"] == "outcome"


def test_filter_by_time_range(admin_client, operator_user):
    record(Action.CONTAINER_START, actor=operator_user, resource_id="before")
    middle = timezone.now()
    record(Action.CONTAINER_START, actor=operator_user, resource_id="after")

    since = results(admin_client.get(AUDIT, {"since": middle.isoformat()}))
    until = results(admin_client.get(AUDIT, {"until": middle.isoformat()}))

    assert [item["resource_id"] for item in since] == ["after"]
    assert [item["resource_id"] for item in until] == ["before"]


def test_time_range_accepts_a_z_suffix(admin_client, rows):
    response = admin_client.get(
        AUDIT, {"since": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"}
    )

    assert len(results(response)) == len(rows)


def test_a_date_or_a_time_without_an_offset_is_accepted(admin_client, rows):
    assert results(admin_client.get(AUDIT, {"until": "2000-01-01T00:00:00"})) == []
    assert len(results(admin_client.get(AUDIT, {"since": "2000-01-01"}))) == len(rows)


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T10:00:00Z", "12:00"])
def test_bad_time_is_a_400_naming_the_field(admin_client, rows, field, value):
    response = admin_client.get(AUDIT, {field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(f"{field}:")
    assert body["details"]["field"] == field
    assert "ISO 8601" in body["message"]


def test_filters_combine(admin_client, rows, operator_user):
    response = admin_client.get(
        AUDIT,
        {
            "actor": operator_user.username,
            "outcome": "success",
            "action": "container.*",
        },
    )

    assert actions(response) == ["container.start"]


def test_the_log_is_paginated(admin_client, rows):
    first = admin_client.get(AUDIT, {"page_size": 3})

    body = first.json()
    assert body["count"] == 4
    assert len(body["results"]) == 3
    assert body["next"]
    second = admin_client.get(AUDIT, {"page_size": 3, "page": 2}).json()
    assert [item["action"] for item in second["results"]] == ["container.start"]
    assert second["next"] is None


def test_a_page_past_the_end_is_a_json_404(admin_client, rows):
    response = admin_client.get(AUDIT, {"page": 99})

    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "details"}


def test_an_admins_login_shows_up_in_the_log(anon_client, admin_client, operator_user):
    anon_client.post(
        "/api/v1/auth/login",
        {"username": operator_user.username, "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="cli/3",
    )

    item = results(admin_client.get(AUDIT, {"action": "auth.login"}))[0]
    assert item["actor_username"] == operator_user.username
    assert item["user_agent"] == "cli/3"
    assert item["ip"] == "127.0.0.1"
