"""The pages in Spanish: chosen by the browser's Accept-Language or by the
language switcher (a cookie), with the catalog compiled by the set-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.mo"


@pytest.fixture(autouse=True)
def _compiled() -> None:
    assert CATALOG.exists(), (
        "locale/es is not compiled: run `make test` (or make locale/.compiled)"
    )


def test_a_page_renders_in_spanish_for_a_spanish_browser(admin_page):
    response = admin_page.get("/jobs/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    html = response.content.decode()

    assert '<html lang="es">' in html
    assert "<h1>Tareas" in html and "Contenedores</a>" in html
    assert "Aún no hay tareas." in html
    assert "No jobs yet" not in html


def test_english_stays_the_default(admin_page):
    html = admin_page.get("/jobs/").content.decode()

    assert '<html lang="en">' in html and "No jobs yet." in html


def test_the_switcher_sets_the_language_for_the_next_pages(viewer_page):
    answer = viewer_page.post("/language/", {"language": "es", "next": "/tokens/"})
    html = viewer_page.get("/tokens/").content.decode()

    assert answer.status_code == 302 and answer["Location"] == "/tokens/"
    assert "Tokens de API personales" in html
    assert 'value="es" lang="es" selected' in html


def test_form_errors_and_messages_are_translated(viewer_page):
    viewer_page.post("/language/", {"language": "es"})

    response = viewer_page.post(
        "/password/",
        {"old_password": "x", "new_password": "a-1-long-pass", "confirm": "other"},
    )

    assert "Las dos contraseñas no coinciden." in response.content.decode()
