"""The personal API tokens page: everyone's own tokens, made and revoked here.

The same service as ``/api/v1/auth/tokens/`` (audited); the secret is shown
once, in the answer to the form, and never stored where it could be shown
again (not in a message, not in the session).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.api.serializers import TokenCreateSerializer
from apps.accounts.models import ApiToken
from apps.accounts.services import tokens as service
from dockpilot.errors import PortalError

from ..forms import TokenForm
from ..pages import page, portal_user, show


@page
def token_list(request: HttpRequest) -> HttpResponse:
    user = portal_user(request)
    form = TokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        body = form.validate_with(TokenCreateSerializer, form.body())
        if body is not None:
            try:
                _, secret = service.create_token(request, user, **body)
            except PortalError as exc:
                form.error_for(str(exc.details.get("field", "")), str(exc.detail))
            else:
                form = TokenForm()
    context = {
        "tokens": ApiToken.objects.filter(owner=user).order_by("-created_at"),
        "form": form,
        "secret": secret,
    }
    status = 400 if form.errors else 200
    response = show(request, "portal/tokens.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@page
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = service.revoke_token(request, portal_user(request), pk)
    messages.success(request, _("Token '%s' revoked.") % token.name)
    return redirect("portal:tokens")
