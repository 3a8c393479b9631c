from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tokens", views.TokenViewSet, basename="auth-token")

urlpatterns: list[Any] = [
    path("setup", views.SetupView.as_view(), name="auth-setup"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("password", views.PasswordView.as_view(), name="auth-password"),
]
urlpatterns += router.urls
