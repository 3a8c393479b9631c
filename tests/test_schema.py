"""The OpenAPI schema describes every route without warnings."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    text = target.read_text()
    assert "/api/v1/containers/" in text and "/api/v1/auth/login" in text


def test_docs_and_schema_are_served_and_the_pages_link_to_them(anon_client):
    assert anon_client.get("/api/schema/").status_code == 200
    docs = anon_client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files, not from the internet.
    assert b"/static/drf_spectacular_sidecar/" in docs.content
    # The root is the portal's dashboard: a visitor is sent to log in, and
    # the login page links the API docs.
    root = anon_client.get("/")
    assert root.status_code == 302 and root["Location"].startswith("/login/")
    assert b'href="/api/docs/"' in anon_client.get("/login/").content
