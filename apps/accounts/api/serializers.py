from typing import Any

from rest_framework import serializers

from dockpilot.serializers import StrictSerializer

from ..models import ApiToken, Role, Scope, Team, User


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
            "must_change_password",
            "last_login",
            "created_at",
        ]
        read_only_fields = fields


class TokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ChoiceField(Scope.values)
    expires_at = serializers.DateTimeField(
        help_text="Mandatory, at most one year ahead."
    )
    password = serializers.CharField(
        max_length=512,
        trim_whitespace=False,
        required=False,
        help_text="Your password; may be left out within 5 minutes of a login.",
    )


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
        ]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "is_active",
            "must_change_password",
            "last_login",
            "created_at",
            "teams",
        ]
        read_only_fields = fields

    def get_teams(self, user: User) -> list[str]:
        return sorted(Team.objects.filter(user=user).values_list("name", flat=True))


class UserCreateSerializer(StrictSerializer):
    username = serializers.RegexField(
        r"^[\w.@+-]{1,150}$",
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(Role.choices, default=Role.VIEWER)


class UserUpdateSerializer(StrictSerializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class PasswordResetSerializer(StrictSerializer):
    password = serializers.CharField(max_length=512, trim_whitespace=False)


class UsernameListField(serializers.ListField):
    child = serializers.CharField(max_length=150)

    def to_internal_value(self, data: Any) -> list[User]:
        names = super().to_internal_value(data)
        users = list(User.objects.filter(username__in=names))
        missing = sorted(set(names) - {user.username for user in users})
        if missing:
            raise serializers.ValidationError(f"No such users: {', '.join(missing)}.")
        return users


class TeamSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.RegexField(
        r"^[\w.@+ -]{1,150}$",
        error_messages={"invalid": "Use letters, digits, spaces and @/./+/-/_."},
    )
    description = serializers.CharField(required=False, allow_blank=True)
    members = UsernameListField(required=False)

    def to_representation(self, team: Any) -> dict[str, Any]:
        return {
            "id": team.pk,
            "name": team.name,
            "description": team.description,
            "members": sorted(team.user_set.values_list("username", flat=True)),
        }


class GrantSerializer(StrictSerializer):
    permission = serializers.ChoiceField(["view", "change", "delete", "operate"])
    object_type = serializers.ChoiceField(
        ["environment", "compose_project", "container", "volume", "network", "tunnel"]
    )
    environment = serializers.CharField(
        required=False, help_text="For Docker resources: the environment's name or id."
    )
    object_id = serializers.CharField(
        max_length=255, help_text="Name or id of the object (a tunnel's id)."
    )
    user = serializers.CharField(required=False, max_length=150)
    team = serializers.CharField(required=False, max_length=150)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == ("team" in attrs):
            raise serializers.ValidationError(
                {"user": ["Give either a user or a team to grant to."]}
            )
        return attrs


class OwnershipSerializer(StrictSerializer):
    object_type = serializers.ChoiceField(["container", "volume", "network"])
    environment = serializers.CharField(required=False)
    object_id = serializers.CharField(max_length=255)
    owner_user = serializers.CharField(required=False, allow_null=True, max_length=150)
    owner_team = serializers.CharField(required=False, allow_null=True, max_length=150)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("owner_user") and attrs.get("owner_team"):
            raise serializers.ValidationError(
                {"owner_user": ["Give a user or a team as the owner, not both."]}
            )
        return attrs
