"""Every change of state in accounts: sign-in, tokens, users, teams, grants."""

from .auth import (
    InvalidCredentials,
    LoginThrottled,
    change_password,
    first_admin,
    login,
    logout,
    refresh,
    revoke_all_refresh_tokens,
)

__all__ = [
    "InvalidCredentials",
    "LoginThrottled",
    "change_password",
    "first_admin",
    "login",
    "logout",
    "refresh",
    "revoke_all_refresh_tokens",
]
