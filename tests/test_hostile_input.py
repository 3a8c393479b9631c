"""Hostile or absurd input gets a clear 4xx, never a 500."""

import pytest

from apps.audit.scrub import scrub

pytestmark = pytest.mark.django_db


def test_an_absurd_memory_limit_is_refused_and_the_audit_log_stays_readable(
    operator_client, admin_client
):
    response = operator_client.post(
        "/api/v1/containers/",
        {"image": "dpt/none:1", "memory": 10**30},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("memory")
    assert admin_client.get("/api/v1/audit/").status_code == 200


def test_audit_details_turn_numbers_beyond_64_bits_into_text():
    assert scrub({"memory": 10**30, "ok": 5}) == {"memory": str(10**30), "ok": 5}


def test_options_on_a_docker_route_describes_it(operator_client):
    assert operator_client.options("/api/v1/containers/").status_code == 200


def test_a_huge_number_in_a_lookup_is_a_400(admin_client):
    response = admin_client.get("/api/v1/jobs/", {"user": "9" * 30})

    assert response.status_code in (400, 404)


def test_deeply_nested_json_is_a_400(operator_client):
    body = "[" * 100_000 + "]" * 100_000

    response = operator_client.post(
        "/api/v1/containers/", body, content_type="application/json"
    )

    assert response.status_code == 400


def test_a_body_over_the_limit_is_a_413(operator_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = operator_client.post(
        "/api/v1/containers/", {"image": "x" * 5000}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_log_since_beyond_any_date_is_a_400(admin_client):
    response = admin_client.get(
        "/api/v1/containers/dpt-none/logs/", {"since": "9" * 30}
    )

    assert response.status_code in (400, 404)
    assert response.status_code != 500
