from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..models import User


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=512, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField()


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(max_length=512, trim_whitespace=False)
    new_password = serializers.CharField(max_length=512, trim_whitespace=False)


class SetupSerializer(StrictSerializer):
    token = serializers.CharField(max_length=256)
    username = serializers.RegexField(
        r"^[\w.@+-]{1,150}$",
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "is_active",
            "last_login",
            "created_at",
        ]
        read_only_fields = fields
