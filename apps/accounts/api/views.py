"""Authentication endpoints: set-up, login, refresh, logout, me, password, tokens."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import Action
from dockpilot.errors import NotFound
from dockpilot.views import PortalAPIView, PortalViewSet

from .. import services
from ..models import ApiToken
from ..permissions import acting_user
from ..services import tokens as token_services
from .serializers import (
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    SetupSerializer,
    TokenCreateSerializer,
    TokenPairSerializer,
    TokenSerializer,
)


class SetupView(PortalAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    audit_resource_type = "user"
    audit_actions = {"POST": Action.AUTH_SETUP}

    @extend_schema(request=SetupSerializer, responses={201: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        serializer = SetupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.first_admin(request._request, **serializer.validated_data)
        return Response(tokens, status=status.HTTP_201_CREATED)


class LoginView(PortalAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    audit_resource_type = "user"
    audit_actions = {"POST": Action.AUTH_LOGIN}

    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.login(request._request, **serializer.validated_data)
        return Response(tokens)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        wait = getattr(exc, "wait", None)
        if response.status_code == 429 and wait:
            response["Retry-After"] = str(wait)
        return response


class RefreshView(PortalAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    audit_resource_type = "user"
    audit_actions = {"POST": Action.AUTH_REFRESH}

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer})
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            services.refresh(request._request, serializer.validated_data["refresh"])
        )


class LogoutView(PortalAPIView):
    permission_classes = [IsAuthenticated]
    audit_resource_type = "user"
    audit_actions = {"POST": Action.AUTH_LOGOUT}

    @extend_schema(request=RefreshSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.logout(
            request, acting_user(request), serializer.validated_data["refresh"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(PortalAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class PasswordView(PortalAPIView):
    permission_classes = [IsAuthenticated]
    audit_resource_type = "user"
    audit_actions = {"POST": Action.AUTH_PASSWORD_CHANGE}

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.change_password(
            request, acting_user(request), data["old_password"], data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenViewSet(PortalViewSet):
    """The signed-in user's personal API tokens."""

    permission_classes = [IsAuthenticated]
    audit_resource_type = "api_token"
    audit_actions = {"create": Action.TOKEN_CREATE, "destroy": Action.TOKEN_REVOKE}

    @extend_schema(responses=TokenSerializer(many=True))
    def list(self, request: Request) -> Response:
        owned = ApiToken.objects.filter(owner=acting_user(request))
        return Response(TokenSerializer(owned, many=True).data)

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenSerializer})
    def create(self, request: Request) -> Response:
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = token_services.create_token(
            request, acting_user(request), **serializer.validated_data
        )
        body = {**TokenSerializer(token).data, "token": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={204: None},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        if not pk.isdigit():
            raise NotFound(f"api token {pk}: you have no such token.")
        token_services.revoke_token(request, acting_user(request), int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
