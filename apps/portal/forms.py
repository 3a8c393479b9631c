"""The pages' forms. Each produces the body its REST route would take.

Checking stays with the REST serializers and the services: a form only
turns text into that body, then ``validate_with`` runs the API's own
serializer and puts its errors next to the fields they are about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Role, Scope
from apps.audit.models import Action, Outcome
from apps.jobs.models import Kind, Status

from .fields import CommandField, KeyValueField, PortsField, VolumesField

# The labels of roles and token scopes as people read them (also used by the
# templates through {% translate %}, so the wording here is the msgid).
ROLE_CHOICES = [
    (Role.ADMIN, _("Admin")),
    (Role.OPERATOR, _("Operator")),
    (Role.VIEWER, _("Viewer")),
]
SCOPE_CHOICES = [(Scope.READ, _("Read")), (Scope.READ_WRITE, _("Read and write"))]

RESTART_CHOICES = [
    ("no", _("Never")),
    ("unless-stopped", _("Unless stopped")),
    ("always", _("Always")),
    ("on-failure", _("On failure")),
]


def _first_error(errors: Any) -> str:
    """The first message of a (nested) DRF error, with its position if any."""
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        inner = _first_error(value)
        return (
            f"{key}: {inner}"
            if isinstance(key, str) and key != "non_field_errors"
            else inner
        )
    if isinstance(errors, list):
        for index, item in enumerate(errors):
            if item:
                text = _first_error(item)
                return text if isinstance(item, str) else f"entry {index + 1}, {text}"
    return str(errors)


def strip_field(message: str, field: str) -> str:
    """Service messages start with "field: "; next to the field it is noise."""
    return message.removeprefix(f"{field}: ")


class PortalForm(forms.Form):
    """A form whose body is checked by a REST serializer, errors in place."""

    # Body keys of the serializer that the form shows under another name.
    field_of: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        """The request body from cleaned data, without the empty fields."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if value not in (None, "", [], {})
        }

    def error_for(self, key: str, message: str) -> None:
        field = self.field_of.get(key, key)
        if field in self.fields:
            self.add_error(field, strip_field(message, key))
        else:
            self.add_error(None, message)

    def validate_with(
        self, serializer_class: type[serializers.Serializer], body: dict[str, Any]
    ) -> dict[str, Any] | None:
        serializer = serializer_class(data=body)
        if serializer.is_valid():
            return dict(serializer.validated_data)
        for key, errors in serializer.errors.items():
            self.error_for(str(key), _first_error(errors))
        return None


class SetupForm(forms.Form):
    token = forms.CharField(
        label=_("Setup token"),
        help_text=_(
            "Printed in the server log at start-up (also DATA_DIR/setup_token)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    username = forms.CharField(max_length=150, initial="admin", label=_("User name"))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("10 characters at least."),
    )
    confirm = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("confirm"):
            self.add_error("confirm", _("The two passwords differ."))
        return data


class PasswordForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("10 characters at least; every API token you made stops working."),
    )
    confirm = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("confirm"):
            self.add_error("confirm", _("The two passwords differ."))
        return data


class ContainerCreateForm(PortalForm):
    """The common options of ``docker run``; the rest is the API's."""

    image = forms.CharField(
        max_length=512,
        label=_("Image"),
        widget=forms.TextInput(attrs={"list": "image-choices", "spellcheck": "false"}),
        help_text=_("An image on this engine, such as busybox:latest."),
    )
    name = forms.CharField(required=False, max_length=128, label=_("Name"))
    command = CommandField(
        required=False,
        label=_("Command"),
        help_text=_("Split as a shell would: sh -c 'echo hi; sleep 60'."),
    )
    env = KeyValueField(
        as_list=True, label=_("Environment"), help_text=_("KEY=value per line.")
    )
    ports = PortsField(
        required=False,
        label=_("Ports"),
        help_text=_("host:container per line, such as 8080:80."),
    )
    volumes = VolumesField(
        required=False,
        label=_("Volumes"),
        help_text=_("volume:/path per line; add :ro for read-only."),
    )
    labels = KeyValueField(label=_("Labels"), help_text=_("key=value per line."))
    network = forms.CharField(
        required=False,
        label=_("Network"),
        widget=forms.TextInput(attrs={"list": "network-choices"}),
        help_text=_("Leave empty for the default bridge."),
    )
    restart = forms.ChoiceField(
        choices=RESTART_CHOICES, initial="no", label=_("Restart")
    )
    memory = forms.CharField(
        required=False,
        max_length=32,
        label=_("Memory"),
        help_text=_("Such as 256m or 1g."),
    )
    cpus = forms.FloatField(required=False, min_value=0.01, label=_("CPUs"))
    start = forms.BooleanField(required=False, initial=True, label=_("Start it now"))

    field_of = {"restart_policy": "restart"}

    def body(self) -> dict[str, Any]:
        body = super().body()
        restart = body.pop("restart", "no")
        if restart != "no":
            body["restart_policy"] = {"name": restart}
        body["start"] = bool(self.cleaned_data.get("start"))
        return body


class VolumeCreateForm(PortalForm):
    name = forms.CharField(
        required=False,
        max_length=255,
        label=_("Name"),
        help_text=_("Leave empty for a generated name."),
    )
    labels = KeyValueField(label=_("Labels"), help_text=_("key=value per line."))


class NetworkCreateForm(PortalForm):
    name = forms.CharField(max_length=128, label=_("Name"))
    subnet = forms.CharField(
        required=False, label=_("Subnet"), help_text=_("CIDR, such as 10.213.0.0/24.")
    )
    gateway = forms.CharField(required=False, label=_("Gateway"))
    internal = forms.BooleanField(
        required=False, label=_("Internal"), help_text=_("No route outside.")
    )
    labels = KeyValueField(label=_("Labels"), help_text=_("key=value per line."))


class ConnectForm(PortalForm):
    container = forms.CharField(
        max_length=128, label=_("Container"), help_text=_("A container name or id.")
    )


class TagForm(PortalForm):
    repository = forms.CharField(max_length=255, label=_("Repository"))
    tag = forms.CharField(max_length=128, initial="latest", label=_("Tag"))


class AuditFilterForm(forms.Form):
    """The audit log's filters, the API's query parameters by the same names."""

    actor = forms.CharField(required=False, label=_("Actor"))
    action = forms.ChoiceField(
        required=False,
        label=_("Action"),
        choices=[("", _("Any action"))] + [(value, value) for value in Action.values],
    )
    resource_type = forms.CharField(required=False, label=_("Resource type"))
    resource_id = forms.CharField(required=False, label=_("Resource id"))
    outcome = forms.ChoiceField(
        required=False,
        label=_("Outcome"),
        choices=[("", _("Any outcome")), *Outcome.choices],
    )
    since = forms.CharField(
        required=False,
        label=_("Since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.CharField(
        required=False,
        label=_("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def params(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {key: str(value) for key, value in self.cleaned_data.items() if value}


class PullForm(PortalForm):
    image = forms.CharField(
        max_length=512,
        label=_("Image"),
        help_text=_("A reference such as team/app:1.2 or host:5000/team/app:1.2."),
    )
    platform = forms.CharField(
        required=False, max_length=64, label=_("Platform"), help_text="linux/amd64"
    )
    credential = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label=_("Registry login"),
        choices=[("", _("None (anonymous)"))],
    )

    def __init__(self, *args: Any, credentials: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["credential"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [
            ("", _("None (anonymous)")),
            *((c.pk, f"{c.name} ({c.registry})") for c in credentials),
        ]


class BuildForm(PortalForm):
    tags = forms.CharField(
        max_length=2000,
        label=_("Tags"),
        help_text=_("One or more, separated by spaces: team/app:1 team/app:latest."),
    )
    dockerfile = forms.CharField(
        required=False,
        strip=False,
        label=_("Dockerfile"),
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=_("With an uploaded context, it replaces the context's own."),
    )
    context = forms.FileField(
        required=False,
        label=_("Context"),
        help_text=_("tar, tar.gz or zip of the build folder."),
    )
    build_args = KeyValueField(label=_("Build arguments"))
    labels = KeyValueField(label=_("Labels"))
    target = forms.CharField(required=False, max_length=128, label=_("Target stage"))
    no_cache = forms.BooleanField(required=False, label=_("Do not use the cache"))
    pull = forms.BooleanField(required=False, label=_("Pull newer base images"))

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["tags"] = body.get("tags", "").split()
        body.pop("context", None)
        return body


class JobFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False,
        label=_("Kind"),
        choices=[("", _("Any kind")), *Kind.choices],
    )
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("Any status")), *Status.choices],
    )
    user = forms.CharField(required=False, max_length=150, label=_("User"))


class UserCreateForm(PortalForm):
    username = forms.CharField(max_length=150, label=_("User name"))
    password = forms.CharField(
        max_length=512,
        strip=False,
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password."),
    )
    email = forms.EmailField(required=False, label=_("E-mail"))
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER, label=_("Role"))


class UserUpdateForm(PortalForm):
    email = forms.EmailField(required=False, label=_("E-mail"))
    role = forms.ChoiceField(choices=ROLE_CHOICES, label=_("Role"))
    is_active = forms.BooleanField(required=False, label=_("Active (may log in)"))

    def body(self) -> dict[str, Any]:
        # Every field is sent: an unticked box is a deactivation, not "no change".
        return dict(self.cleaned_data)


class PasswordResetForm(PortalForm):
    password = forms.CharField(
        max_length=512,
        strip=False,
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The user must change it at their next login."),
    )


class TeamForm(PortalForm):
    name = forms.CharField(max_length=150, label=_("Name"))
    description = forms.CharField(
        required=False,
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    members = forms.MultipleChoiceField(
        required=False,
        label=_("Members"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, usernames: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(name, name) for name in usernames]

    def body(self) -> dict[str, Any]:
        body = dict(self.cleaned_data)
        body["description"] = body.get("description") or ""
        return body


class GrantForm(PortalForm):
    permission = forms.ChoiceField(
        label=_("Permission"),
        choices=[
            ("view", _("view")),
            ("operate", _("operate")),
            ("change", _("change")),
            ("delete", _("delete")),
        ],
    )
    object_type = forms.ChoiceField(
        label=_("On"),
        choices=[
            ("environment", _("environment")),
            ("container", _("container")),
            ("volume", _("volume")),
            ("network", _("network")),
        ],
    )
    environment = forms.CharField(
        required=False,
        max_length=255,
        label=_("Environment"),
        help_text=_("For containers, volumes and networks."),
    )
    object_id = forms.CharField(
        max_length=255, label=_("Name or id"), help_text=_("Of the object granted.")
    )
    user = forms.CharField(required=False, max_length=150, label=_("To user"))
    team = forms.CharField(required=False, max_length=150, label=_("Or to team"))


class TokenForm(PortalForm):
    name = forms.CharField(max_length=100, label=_("Name"))
    scopes = forms.ChoiceField(
        choices=SCOPE_CHOICES, initial=Scope.READ, label=_("Scopes")
    )
    expires_at = forms.DateField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most one year ahead."),
    )
    password = forms.CharField(
        max_length=512,
        strip=False,
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Asked again: a token acts as you."),
    )

    def body(self) -> dict[str, Any]:
        body = super().body()
        if "expires_at" in body:
            # The end of the chosen day, in UTC, as the API takes it.
            body["expires_at"] = f"{body['expires_at'].isoformat()}T23:59:59Z"
        return body


def _editor(rows: int) -> forms.Textarea:
    return forms.Textarea(
        attrs={
            "rows": rows,
            "spellcheck": "false",
            "autocomplete": "off",
            "wrap": "off",
            "class": "mono editor-text",
            "data-lines": "",
        }
    )


class ComposeForm(PortalForm):
    """A project's compose file and ``.env`` (and its name, when created)."""

    name = forms.CharField(
        max_length=63,
        label=_("Project name"),
        help_text=_(
            "Lowercase letters, digits, - and _, starting with a letter or digit."
        ),
    )
    compose = forms.CharField(label=_("compose.yaml"), strip=False, widget=_editor(22))
    env = forms.CharField(
        label=_(".env"), required=False, strip=False, widget=_editor(6)
    )

    def __init__(self, *args: Any, with_name: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The line of the compose file a validation error is about.
        self.error_line: int | None = None
        if not with_name:
            del self.fields["name"]

    def _typed(self, field: str) -> str:
        # Browsers send a textarea's lines ending in CRLF; the files are
        # kept as typed, with the line ends the CLI and editors expect.
        return str(self.cleaned_data.get(field) or "").replace("\r\n", "\n")

    def clean_compose(self) -> str:
        return self._typed("compose")

    def clean_env(self) -> str:
        return self._typed("env")

    def body(self) -> dict[str, Any]:
        # An empty .env is a value, not a missing one.
        return {**super().body(), "env": self.cleaned_data.get("env", "")}


class ComposeLogsForm(forms.Form):
    DEFAULTS: dict[str, Any] = {"tail": 200, "service": "", "timestamps": False}

    tail = forms.IntegerField(
        min_value=0, max_value=10000, required=False, initial=200, label=_("Lines")
    )
    service = forms.CharField(required=False, max_length=128, label=_("Service"))
    timestamps = forms.BooleanField(required=False, label=_("Timestamps"))
