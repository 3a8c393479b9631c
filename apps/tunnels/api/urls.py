from rest_framework.routers import SimpleRouter

from .views import TunnelViewSet

router = SimpleRouter()
router.register("tunnels", TunnelViewSet, basename="tunnel")

urlpatterns = router.urls
