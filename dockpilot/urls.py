from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dockpilot.health import health

api_v1 = [
    path("auth/", include("apps.accounts.api.urls")),
    path("audit/", include("apps.audit.api.urls")),
    path("", include("apps.accounts.api.management_urls")),
    path("", include("apps.compose.api.urls")),
    path("", include("apps.containers.api.urls")),
    path("", include("apps.jobs.api.urls")),
    path("", include("apps.registries.api.urls")),
    path("", include("apps.tunnels.api.urls")),
]

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # The pages, last: every route above wins over a page of the same path.
    path("", include("apps.portal.urls")),
]

handler404 = "dockpilot.errors.json_not_found"
handler500 = "dockpilot.errors.json_server_error"
