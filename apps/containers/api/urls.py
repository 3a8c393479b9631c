from rest_framework.routers import SimpleRouter

from .containers import ContainerViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("containers", ContainerViewSet, basename="container")

urlpatterns = router.urls
