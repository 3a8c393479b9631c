from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dockpilot.health import health

api_v1 = [
    path("auth/", include("apps.accounts.api.urls")),
    path("audit/", include("apps.audit.api.urls")),
    path("", include("apps.containers.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/api/docs/", permanent=False)),
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler404 = "dockpilot.errors.json_not_found"
handler500 = "dockpilot.errors.json_server_error"
