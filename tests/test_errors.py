"""Every API error is JSON with a code, a message that says what to fix, details."""

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
SHAPE = {"code", "message", "details"}


def assert_error_shape(response):
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    return body


def test_malformed_json_is_a_400_malformed_request(anon_client):
    response = anon_client.post(
        LOGIN, '{"username": "a", ', content_type="application/json"
    )

    assert response.status_code == 400
    body = assert_error_shape(response)
    assert body["code"] == "malformed_request"
    assert "JSON" in body["message"]


def test_unknown_field_is_a_400_naming_the_field(anon_client):
    response = anon_client.post(
        LOGIN, {"username": "a", "password": "b", "remember_me": True}, format="json"
    )

    assert response.status_code == 400
    body = assert_error_shape(response)
    assert body["code"] == "invalid"
    assert body["message"].startswith("remember_me:")
    assert "known fields are: password, username" in body["message"]
    assert "remember_me" in body["details"]["fields"]


def test_wrong_type_is_a_400_naming_the_field(anon_client):
    response = anon_client.post(
        LOGIN, {"username": ["a", "b"], "password": "b"}, format="json"
    )

    assert response.status_code == 400
    body = assert_error_shape(response)
    assert body["message"].startswith("username:")
    assert "username" in body["details"]["fields"]


def test_nested_wrong_type_names_the_path(operator_client):
    response = operator_client.post(
        "/api/v1/containers/",
        {"image": "busybox", "ports": [{"container_port": "eighty"}]},
        format="json",
    )

    assert response.status_code == 400
    body = assert_error_shape(response)
    assert body["message"].startswith("ports[0].container_port:")


def test_a_body_that_is_not_an_object_is_a_400(anon_client):
    response = anon_client.post(LOGIN, [1, 2], format="json")

    assert response.status_code == 400
    assert_error_shape(response)


def test_a_form_encoded_body_is_refused_as_unsupported(anon_client):
    response = anon_client.post(LOGIN, {"username": "a", "password": "b"})

    assert response.status_code == 415
    assert assert_error_shape(response)["code"] == "unsupported_media_type"


def test_unknown_url_under_api_is_a_json_404(anon_client):
    response = anon_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    body = assert_error_shape(response)
    assert body["code"] == "not_found"
    assert "/api/v1/no-such-thing/" in body["message"]


def test_unknown_url_under_api_is_a_json_404_for_posts_too(admin_client):
    response = admin_client.post("/api/v1/auth/nothing", {}, format="json")

    assert response.status_code == 404
    assert assert_error_shape(response)["code"] == "not_found"


def test_unauthenticated_is_a_json_401(anon_client):
    response = anon_client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert assert_error_shape(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_a_json_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer abc.def.ghi")

    response = anon_client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert_error_shape(response)


def test_forbidden_is_a_json_403_that_says_what_to_do(viewer_client):
    response = viewer_client.post("/api/v1/containers/", {}, format="json")

    assert response.status_code == 403
    body = assert_error_shape(response)
    assert body["code"] == "permission_denied"
    assert "operator" in body["message"]


def test_wrong_method_is_a_json_405(operator_client):
    response = operator_client.delete("/api/v1/auth/me")

    assert response.status_code == 405
    assert assert_error_shape(response)["code"] == "method_not_allowed"


def test_throttled_login_body_has_the_error_shape(anon_client, operator_user):
    for _ in range(10):
        anon_client.post(
            LOGIN,
            {"username": operator_user.username, "password": "guess-guess"},
            format="json",
        )

    response = anon_client.post(
        LOGIN,
        {"username": operator_user.username, "password": "guess-guess"},
        format="json",
    )

    assert response.status_code == 429
    assert assert_error_shape(response)["details"]["retry_after"] > 0


def test_an_unexpected_crash_is_a_json_500_without_internals(admin_client, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("apps.audit.api.views.filter_audit", crash)

    response = admin_client.get("/api/v1/audit/")

    assert response.status_code == 500
    body = assert_error_shape(response)
    assert body["code"] == "server_error"
    assert "secret internal detail" not in response.content.decode()
