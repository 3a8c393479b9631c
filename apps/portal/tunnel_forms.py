"""The tunnel forms: each field of the REST body, secrets as password fields.

A secret is write-only: the forms never put a stored one back into the page
(``render_value=False``), and the edit form keeps a secret left empty.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.tunnels.models import Provider, TunnelConfig
from apps.tunnels.services import REQUIRED

from .forms import PortalForm

PROVIDER_CHOICES = [
    (Provider.SSH, _("SSH reverse tunnel")),
    (Provider.CLOUDFLARE_QUICK, _("Cloudflare quick tunnel")),
    (Provider.CLOUDFLARE_NAMED, _("Cloudflare named tunnel")),
]
# The ``options`` of each provider, as the REST body nests them.
OPTION_FIELDS = {
    Provider.SSH: ("host", "port", "user", "host_key", "remote_port", "remote_bind"),
    Provider.CLOUDFLARE_QUICK: (),
    Provider.CLOUDFLARE_NAMED: ("account_id", "zone_id"),
}
SECRET_FIELDS = {
    Provider.SSH: ("private_key",),
    Provider.CLOUDFLARE_QUICK: (),
    Provider.CLOUDFLARE_NAMED: ("token",),
}
ALL_OPTIONS = sorted({name for names in OPTION_FIELDS.values() for name in names})
ARMOR = re.compile(r"^(-----BEGIN [A-Z0-9 ]+-----)(.*?)(-----END [A-Z0-9 ]+-----)$")


class PrivateKeyField(forms.CharField):
    """A private key typed into a password field.

    Browsers drop the line breaks of text pasted into a one-line field, and
    key files need them: a key that arrives on one line is wrapped again
    (64 columns between its BEGIN and END lines). Keys with header lines
    (old encrypted PEM) cannot be rebuilt so; those have a passphrase,
    which tunnels do not take anyway.
    """

    widget = forms.PasswordInput(
        attrs={"autocomplete": "off", "spellcheck": "false"}, render_value=False
    )

    def to_python(self, value: Any) -> str:
        text = (super().to_python(value) or "").strip()
        if "\n" in text:
            return text
        found = ARMOR.match(text)
        if found is None:
            return text
        body = re.sub(r"\s+", "", found.group(2))
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join([found.group(1), *lines, found.group(3)])


def _secret_widget() -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False)


class TunnelSettingsForm(PortalForm):
    """What every tunnel form holds: the settings that may change later."""

    name = forms.SlugField(max_length=64, label=_("Name"))
    target_port = forms.IntegerField(
        min_value=1,
        max_value=65535,
        label=_("Container port"),
        help_text=_("The port the container listens on, such as 8080."),
    )
    hostname = forms.CharField(
        required=False,
        max_length=253,
        label=_("Public host name"),
        help_text=_("Cloudflare named tunnels: the DNS name to serve it at."),
    )
    host = forms.CharField(required=False, max_length=253, label=_("SSH server"))
    port = forms.IntegerField(
        required=False, min_value=1, max_value=65535, label=_("SSH port")
    )
    user = forms.CharField(required=False, max_length=64, label=_("SSH user"))
    host_key = forms.CharField(
        required=False,
        max_length=4096,
        label=_("SSH host key"),
        help_text=_("The server's fingerprint (SHA256:...) or public key line."),
    )
    remote_port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        label=_("Port on the SSH server"),
    )
    remote_bind = forms.CharField(
        required=False, max_length=64, label=_("Address on the SSH server")
    )
    private_key = PrivateKeyField(
        required=False,
        max_length=16384,
        label=_("SSH private key"),
        help_text=_("The whole key file, without a passphrase."),
    )
    account_id = forms.CharField(
        required=False, max_length=64, label=_("Cloudflare account id")
    )
    zone_id = forms.CharField(
        required=False, max_length=64, label=_("Cloudflare zone id")
    )
    token = forms.CharField(
        required=False,
        max_length=4096,
        label=_("Cloudflare API token"),
        widget=_secret_widget(),
    )

    # The serializer's nested keys, as the form names its fields.
    field_of = {f"options.{name}": name for name in ALL_OPTIONS}
    # Which fields a provider needs depends on the provider chosen: no
    # "required" attribute in the page, the service says what is missing.
    use_required_attribute = False

    def need(self, providers: list[str], secrets: bool = True) -> None:
        """Mark the fields these providers need as required (so not "optional")."""
        for provider in providers:
            options, secret_names = REQUIRED[Provider(provider)]
            names = [*options, *(secret_names if secrets else ())]
            if provider == Provider.CLOUDFLARE_NAMED:
                names.append("hostname")
            for name in names:
                if name in self.fields:
                    self.fields[name].required = True

    def provider(self) -> str:
        raise NotImplementedError

    def body(self) -> dict[str, Any]:
        """The REST body: options nested, only the provider's own fields."""
        data = super().body()
        provider = Provider(self.provider())
        options = {name: data[name] for name in OPTION_FIELDS[provider] if name in data}
        body = {
            key: value
            for key, value in data.items()
            if key not in ALL_OPTIONS and key not in ("private_key", "token")
        }
        body.update({k: data[k] for k in SECRET_FIELDS[provider] if k in data})
        if options:
            body["options"] = options
        return body

    def error_for(self, key: str, message: str) -> None:
        # Nested errors come as "options" with "host: ..." inside.
        if key == "options" and ": " in message:
            inner, _sep, text = message.partition(": ")
            if inner in self.fields:
                self.add_error(inner, text)
                return
        super().error_for(key, message)


class TunnelCreateForm(TunnelSettingsForm):
    """A new tunnel to a container the user may operate."""

    provider_choice = forms.ChoiceField(
        choices=PROVIDER_CHOICES, label=_("Provider"), initial=Provider.SSH
    )
    container = forms.ChoiceField(
        label=_("Container"),
        help_text=_("Only containers you may operate are listed."),
    )

    field_of = {**TunnelSettingsForm.field_of, "provider": "provider_choice"}

    def __init__(self, *args: Any, containers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["container"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(name, name) for name in containers]
        # The provider first, then the target, then the rest.
        self.order_fields(["name", "provider_choice", "container", "target_port"])
        # Shown: what each provider needs; checked: what the chosen one needs.
        chosen = self.data.get("provider_choice") if self.is_bound else None
        self.need([chosen] if chosen in Provider.values else list(Provider.values))

    def provider(self) -> str:
        return str(self.cleaned_data.get("provider_choice") or Provider.SSH)

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["provider"] = body.pop("provider_choice")
        return body


class TunnelEditForm(TunnelSettingsForm):
    """The settings of an existing tunnel; a secret left empty is kept."""

    def __init__(self, data: Any = None, *, tunnel: TunnelConfig) -> None:
        self.tunnel = tunnel
        initial = {
            "name": tunnel.name,
            "target_port": tunnel.target_port,
            "hostname": tunnel.hostname,
            **{k: v for k, v in tunnel.options.items() if k in ALL_OPTIONS},
        }
        super().__init__(data, initial=initial)
        provider = Provider(tunnel.provider)
        for name in [*ALL_OPTIONS, "private_key", "token", "hostname"]:
            keep = name in OPTION_FIELDS[provider] or name in SECRET_FIELDS[provider]
            if not keep and not (name == "hostname" and provider != Provider.SSH):
                del self.fields[name]
        # A stored secret may be left empty: it is kept.
        self.need([provider], secrets=not tunnel.secrets_sealed)
        for name in SECRET_FIELDS[provider]:
            self.fields[name].help_text = (
                _("A value is set; it is never shown. Leave empty to keep it.")
                if tunnel.secrets_sealed
                else _("No value is set yet.")
            )

    def provider(self) -> str:
        return self.tunnel.provider
