"""The portal's pages, at the root of the site (the API lives under /api/)."""

from __future__ import annotations

from django.urls import path, re_path
from django.views.i18n import set_language

from .views import (
    audit,
    auth,
    compose,
    containers,
    dashboard,
    environments,
    grants,
    images,
    jobs,
    networks,
    tokens,
    tunnels,
    users,
    volumes,
)

app_name = "portal"

# Names and ids as the REST routes take them ("." and ".." are no name).
NAME = r"(?!\.\.?/)[A-Za-z0-9][A-Za-z0-9_.-]*"
ACTIONS = "|".join(containers.ACTIONS)
OPERATIONS = "|".join(compose.OPERATIONS)
SERVICE_OPERATIONS = "|".join(compose.SERVICE_OPERATIONS)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("setup/", auth.setup_view, name="setup"),
    # Sets the language cookie only (no server state, so nothing to audit).
    path("language/", set_language, name="language"),
    path("password/", auth.password_view, name="password"),
    path("containers/", containers.container_list, name="containers"),
    path("containers/new/", containers.container_create, name="container-create"),
    path("containers/bulk/", containers.container_bulk, name="container-bulk"),
    re_path(
        rf"^containers/(?P<ident>{NAME})/$",
        containers.container_detail,
        name="container",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/inspect/$",
        containers.container_inspect,
        name="container-inspect",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/logs/$",
        containers.container_logs,
        name="container-logs",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/stats/$",
        containers.container_stats,
        name="container-stats",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/terminal/$",
        containers.container_terminal,
        name="container-terminal",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/logs/download/$",
        containers.container_logs_download,
        name="container-logs-download",
    ),
    re_path(
        rf"^containers/(?P<ident>{NAME})/(?P<action>{ACTIONS})/$",
        containers.container_action,
        name="container-action",
    ),
    path("images/", images.image_list, name="images"),
    path("images/prune/", images.image_prune, name="image-prune"),
    path("images/pull/", jobs.image_pull, name="image-pull"),
    path("images/build/", jobs.image_build, name="image-build"),
    # References hold slashes and colons, as in the REST routes.
    path("images/<path:ref>/remove/", images.image_remove, name="image-remove"),
    path("images/<path:ref>/", images.image_detail, name="image"),
    path("volumes/", volumes.volume_list, name="volumes"),
    path("volumes/prune/", volumes.volume_prune, name="volume-prune"),
    re_path(rf"^volumes/(?P<name>{NAME})/$", volumes.volume_detail, name="volume"),
    re_path(
        rf"^volumes/(?P<name>{NAME})/remove/$",
        volumes.volume_remove,
        name="volume-remove",
    ),
    path("networks/", networks.network_list, name="networks"),
    path("networks/prune/", networks.network_prune, name="network-prune"),
    re_path(rf"^networks/(?P<ident>{NAME})/$", networks.network_detail, name="network"),
    re_path(
        rf"^networks/(?P<ident>{NAME})/remove/$",
        networks.network_remove,
        name="network-remove",
    ),
    re_path(
        rf"^networks/(?P<ident>{NAME})/(?P<how>connect|disconnect)/$",
        networks.network_connect,
        name="network-connect",
    ),
    path("compose/", compose.compose_list, name="compose"),
    path("compose/new/", compose.compose_create, name="compose-create"),
    re_path(
        rf"^compose/outside/(?P<name>{NAME})/adopt/$",
        compose.stack_adopt,
        name="compose-adopt",
    ),
    re_path(
        rf"^compose/(?P<name>{NAME})/$",
        compose.compose_project,
        name="compose-project",
    ),
    re_path(
        rf"^compose/(?P<name>{NAME})/logs/$",
        compose.compose_logs,
        name="compose-logs",
    ),
    re_path(
        rf"^compose/(?P<name>{NAME})/delete/$",
        compose.compose_delete,
        name="compose-delete",
    ),
    re_path(
        rf"^compose/(?P<name>{NAME})/(?P<operation>{OPERATIONS})/$",
        compose.compose_action,
        name="compose-action",
    ),
    re_path(
        rf"^compose/(?P<name>{NAME})/services/(?P<service>{NAME})/"
        rf"(?P<operation>{SERVICE_OPERATIONS})/$",
        compose.compose_service_action,
        name="compose-service-action",
    ),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<uuid:pk>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:pk>/cancel/", jobs.job_cancel, name="job-cancel"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("users/", users.user_list, name="users"),
    re_path(rf"^users/(?P<ident>{NAME})/$", users.user_detail, name="user"),
    re_path(
        rf"^users/(?P<ident>{NAME})/delete/$", users.user_delete, name="user-delete"
    ),
    path("teams/", users.team_list, name="teams"),
    path("teams/<int:ident>/", users.team_detail, name="team"),
    path("teams/<int:ident>/delete/", users.team_delete, name="team-delete"),
    path("grants/", grants.grant_list, name="grants"),
    re_path(
        r"^grants/(?P<grant_id>[ut]\d+)/revoke/$",
        grants.grant_revoke,
        name="grant-revoke",
    ),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("audit/<int:pk>/", audit.audit_detail, name="audit-entry"),
    path("environments/", environments.environment_list, name="environments"),
    path("environments/pick/", environments.environment_pick, name="environment-pick"),
    path("tunnels/", tunnels.tunnel_list, name="tunnels"),
    path("tunnels/new/", tunnels.tunnel_create, name="tunnel-create"),
    path("tunnels/<int:pk>/", tunnels.tunnel_detail, name="tunnel"),
    path("tunnels/<int:pk>/edit/", tunnels.tunnel_edit, name="tunnel-edit"),
    path("tunnels/<int:pk>/start/", tunnels.tunnel_start, name="tunnel-start"),
    path("tunnels/<int:pk>/stop/", tunnels.tunnel_stop, name="tunnel-stop"),
    path("tunnels/<int:pk>/delete/", tunnels.tunnel_delete, name="tunnel-delete"),
]
