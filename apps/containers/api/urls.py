from typing import Any

from django.urls import URLPattern, path
from rest_framework.routers import SimpleRouter

from .containers import ContainerViewSet
from .environments import EnvironmentViewSet
from .images import ImageViewSet
from .jobs import ImageJobViewSet, PruneJobViewSet
from .networks import NetworkViewSet
from .volumes import VolumeViewSet

router = SimpleRouter()
router.register("containers", ContainerViewSet, basename="container")
router.register("environments", EnvironmentViewSet, basename="environment")
router.register("volumes", VolumeViewSet, basename="volume")
router.register("networks", NetworkViewSet, basename="network")


def _image_routes(route: str, actions: dict[str, Any], name: str) -> list[URLPattern]:
    # References hold slashes, so the router's one-segment lookup cannot
    # match them; <path:pk> does. The trailing slash is optional because a
    # reference is typed by hand more often than a container id is; the
    # schema shows only the slashed form, as for the router's routes.
    kwargs = {"basename": "image", "detail": "<path:pk>" in route}
    slashed = ImageViewSet.as_view(actions, **kwargs)
    bare = ImageViewSet.as_view(actions, schema=None, **kwargs)
    return [path(f"{route}/", slashed, name=name), path(route, bare)]


def _job_routes(
    route: str, view: Any, actions: dict[str, str], name: str
) -> list[URLPattern]:
    # Pull and build answer 202 with a job; the same optional slash applies.
    slashed = view.as_view(actions)
    bare = view.as_view(actions, schema=None)
    return [path(f"{route}/", slashed, name=name), path(route, bare)]


# Most specific first: "prune", "pull", "build" and the "/tag" and
# "/history" suffixes would otherwise be read as part of an image reference.
image_urlpatterns = [
    *_image_routes("images", {"get": "list"}, "image-list"),
    *_job_routes("images/pull", ImageJobViewSet, {"post": "pull"}, "image-pull"),
    *_job_routes("images/build", ImageJobViewSet, {"post": "build"}, "image-build"),
    *_job_routes("prunes", PruneJobViewSet, {"post": "create"}, "prune-create"),
    *_image_routes("images/prune", {"post": "prune"}, "image-prune"),
    *_image_routes("images/<path:pk>/tag", {"post": "tag"}, "image-tag"),
    *_image_routes("images/<path:pk>/history", {"get": "history"}, "image-history"),
    *_image_routes(
        "images/<path:pk>", {"get": "retrieve", "delete": "destroy"}, "image-detail"
    ),
]

urlpatterns = image_urlpatterns + router.urls
