from rest_framework.routers import SimpleRouter

from .management import GrantViewSet, OwnershipViewSet, TeamViewSet, UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
router.register("grants", GrantViewSet, basename="grant")
router.register("ownerships", OwnershipViewSet, basename="ownership")

urlpatterns = router.urls
