from rest_framework.routers import SimpleRouter

from .views import RegistryCredentialViewSet

router = SimpleRouter()
router.register("registries", RegistryCredentialViewSet, basename="registry")

urlpatterns = router.urls
