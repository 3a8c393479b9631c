from rest_framework.routers import SimpleRouter

from .views import ComposeViewSet, OutsideStackViewSet

router = SimpleRouter()
# Registered first: "outside" would otherwise be read as a project's name.
router.register("compose/outside", OutsideStackViewSet, basename="compose-outside")
router.register("compose", ComposeViewSet, basename="compose")

urlpatterns = router.urls
