from rest_framework.routers import SimpleRouter

from .containers import ContainerViewSet
from .environments import EnvironmentViewSet

router = SimpleRouter()
router.register("containers", ContainerViewSet, basename="container")
router.register("environments", EnvironmentViewSet, basename="environment")

urlpatterns = router.urls
