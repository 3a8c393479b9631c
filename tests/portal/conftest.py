"""Session-logged-in page clients for each persona."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import User


def session_client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def admin_page(admin_user: User) -> Client:
    return session_client(admin_user)


@pytest.fixture
def operator_page(operator_user: User) -> Client:
    return session_client(operator_user)


@pytest.fixture
def viewer_page(viewer_user: User) -> Client:
    return session_client(viewer_user)


@pytest.fixture
def anon_page(db: None) -> Client:
    return Client()
