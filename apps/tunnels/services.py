"""Tunnels: every change of state, the jobs that start and stop them, and
the beat check that restarts a dropped one.

Start and stop are jobs (``apps.jobs``): the worker that runs the start job
starts the provider's process (see ``supervision`` for where it lives and
how it is found again) or its sidecar container. ``desired_running`` says
what the user asked for; the beat check restarts a tunnel that should run
and does not, waiting longer after each failure, and marks it failed with
the reason after ``TUNNEL_MAX_RESTARTS`` failures in a row.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts import access
from apps.audit.models import Action, Outcome
from apps.audit.services import audited, record
from apps.containers.models import Environment
from apps.jobs.models import Job, Kind
from apps.jobs.services import JobFailed, JobRun, submit
from dockpilot.encryption import seal, unseal
from dockpilot.errors import BadRequest, Conflict, PortalError

from . import sidecar, supervision
from .cloudflare import DNS_NAME
from .models import Provider, Runner, TunnelConfig, TunnelStatus
from .providers import (
    Emit,
    Running,
    mask,
    provider_for,
    run_process,
)
from .targets import TargetGone, for_process, for_sidecar, inspect

logger = logging.getLogger("dockpilot.tunnels.services")

SECRET_FIELDS = ("token", "private_key")
# Fields each provider needs in ``options`` and in the secrets.
REQUIRED = {
    Provider.SSH: (
        ("host", "port", "user", "host_key", "remote_port"),
        ("private_key",),
    ),
    Provider.CLOUDFLARE_QUICK: ((), ()),
    Provider.CLOUDFLARE_NAMED: (("account_id", "zone_id"), ("token",)),
}
# Where each provider sends its stored secret: who changes one of these
# without giving the secret again would have the owner's key or token used
# against a server of their choosing.
SECRET_DESTINATION = {
    Provider.SSH: (("host", "port", "user", "host_key"), "private_key"),
    Provider.CLOUDFLARE_NAMED: (("account_id", "zone_id", "hostname"), "token"),
}
# Binding the forwarded port to these opens it on every interface of the
# SSH server: admins only.
EVERY_INTERFACE = ("*",)
# A tunnel that ran this long after a restart is healthy again.
STABLE_SECONDS = 60


# Secrets -----------------------------------------------------------------------


def open_secrets(tunnel: TunnelConfig) -> dict[str, str]:
    if not tunnel.secrets_sealed:
        return {}
    return dict(json.loads(unseal(tunnel.secrets_sealed, what="tunnel secret")))


def _seal_secrets(secrets: dict[str, str]) -> str:
    kept = {k: v for k, v in secrets.items() if v}
    return seal(json.dumps(kept)) if kept else ""


def _secret_values(tunnel: TunnelConfig) -> list[str]:
    try:
        return [v for v in open_secrets(tunnel).values() if v]
    except PortalError:
        return []


def _details(tunnel: TunnelConfig, **extra: Any) -> dict[str, Any]:
    """What audit rows and logs say about a tunnel: never its secrets."""
    return {
        "provider": tunnel.provider,
        "runner": tunnel.runner,
        "environment": tunnel.environment.name,
        "container": tunnel.container_name,
        "target_port": tunnel.target_port,
        "hostname": tunnel.hostname,
        **extra,
    }


# Configuration ------------------------------------------------------------------


def _validate(tunnel: TunnelConfig, secrets: dict[str, str]) -> None:
    options_needed, secrets_needed = REQUIRED[Provider(tunnel.provider)]
    missing = [
        f"options.{name}" for name in options_needed if not tunnel.options.get(name)
    ]
    missing += [name for name in secrets_needed if not secrets.get(name)]
    if not 1 <= tunnel.target_port <= 65535:
        missing.append("target_port (1 to 65535)")
    if tunnel.provider == Provider.CLOUDFLARE_NAMED and not tunnel.hostname:
        missing.append("hostname")
    if missing:
        raise BadRequest(
            f"a {tunnel.provider} tunnel needs: {', '.join(missing)}.",
            details={"fields": missing},
        )
    if tunnel.runner not in provider_for(tunnel).runners:
        raise BadRequest(
            f"runner: a {tunnel.provider} tunnel runs only as "
            f"{' or '.join(provider_for(tunnel).runners)}.",
            details={"field": "runner"},
        )
    # Labels reach here without the API's checks: the name is checked here.
    named = tunnel.provider == Provider.CLOUDFLARE_NAMED
    if named and not DNS_NAME.match(tunnel.hostname):
        raise BadRequest(
            "hostname: give the full DNS name to serve the tunnel at, in your "
            "Cloudflare zone (such as app.example.com).",
            details={"field": "hostname"},
        )


def _binds_every_interface(options: dict[str, Any]) -> bool:
    bind = options.get("remote_bind")
    if bind is None:
        return False
    text = str(bind).strip()
    if text in EVERY_INTERFACE:
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    # ::ffff:0.0.0.0 is 0.0.0.0 to a dual-stack socket.
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_unspecified or bool(mapped and mapped.is_unspecified)


def _check_bind(user: Any, options: dict[str, Any]) -> None:
    """Only admins may open a tunnel's port on every interface of the server."""
    if _binds_every_interface(options) and not access.is_admin(user):
        raise access.AccessDenied(
            "options.remote_bind: only an admin may bind the tunnel's port to "
            "every interface of the SSH server (0.0.0.0, :: or *); leave it "
            "empty for 127.0.0.1, or give one address of the server.",
            code="bind_refused",
            details={"field": "remote_bind"},
        )


def _redirected(tunnel: TunnelConfig, data: dict[str, Any]) -> list[str]:
    """The fields of ``data`` that change where the stored secret is sent."""
    names, _secret = SECRET_DESTINATION.get(Provider(tunnel.provider), ((), ""))
    options = data.get("options") or {}
    changed = []
    for name in names:
        if name == "hostname":
            if "hostname" in data and data["hostname"] != tunnel.hostname:
                changed.append("hostname")
        elif name in options and str(options[name]) != str(
            tunnel.options.get(name, "")
        ):
            changed.append(f"options.{name}")
    return changed


def _check_destination(user: Any, tunnel: TunnelConfig, data: dict[str, Any]) -> None:
    """Who is not the owner or an admin gives the secret again to send it
    elsewhere: a grant of ``change`` is no licence to use someone's key."""
    changed = _redirected(tunnel, data)
    _names, secret = SECRET_DESTINATION.get(Provider(tunnel.provider), ((), ""))
    if not changed or data.get(secret):
        return
    if access.may_redirect_tunnel_secret(user, tunnel):
        return
    raise access.AccessDenied(
        f"{secret}: changing {', '.join(changed)} sends this tunnel's stored "
        f"{secret.replace('_', ' ')} elsewhere; provide the {secret} again in the "
        "same request (only the tunnel's owner or an admin may change it without).",
        code="secret_required",
        details={"field": secret, "fields_changed": changed},
    )


def _save(tunnel: TunnelConfig) -> None:
    try:
        with transaction.atomic():
            tunnel.save()
    except IntegrityError as exc:
        raise Conflict(
            f"name: a tunnel named '{tunnel.name}' exists in environment "
            f"'{tunnel.environment.name}'; choose another name.",
            code="tunnel_exists",
        ) from exc


def create_tunnel(
    user: Any,
    data: dict[str, Any],
    *,
    request: HttpRequest | None = None,
    from_labels: bool = False,
) -> TunnelConfig:
    """Store a tunnel to a container the user may operate (it does not start)."""
    public = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    with audited(
        Action.TUNNEL_CREATE,
        request=request,
        actor=user,
        resource_type="tunnel",
        resource_name=data["name"],
        details=public,
    ) as target:
        environment = data.get("environment_obj") or access.environment_for(
            user, data.get("environment")
        )
        public.pop("environment_obj", None)
        target.details = {**public, "environment": environment.name}
        engine_id, name = access.may_create_tunnel(user, environment, data["container"])
        _check_bind(user, data.get("options") or {})
        secrets = {k: data[k] for k in SECRET_FIELDS if data.get(k)}
        tunnel = TunnelConfig(
            name=data["name"],
            owner=user,
            environment=environment,
            provider=data["provider"],
            runner=data.get("runner") or Runner.PROCESS,
            container_id=engine_id,
            container_name=name,
            target_port=data["target_port"],
            hostname=data.get("hostname", ""),
            options=data.get("options") or {},
            secrets_sealed=_seal_secrets(secrets),
            from_labels=from_labels,
        )
        _validate(tunnel, secrets)
        _save(tunnel)
        target.resource_id = str(tunnel.pk)
    logger.info("tunnel %s (%s) created by %s", tunnel.pk, tunnel.provider, user)
    return tunnel


def update_tunnel(
    tunnel: TunnelConfig, data: dict[str, Any], *, request: HttpRequest
) -> TunnelConfig:
    """Change a tunnel's settings; a running tunnel takes them at its next start."""
    changed = sorted(k for k in data if k in SECRET_FIELDS)
    with audited(
        Action.TUNNEL_UPDATE,
        request=request,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        details={
            **{k: v for k, v in data.items() if k not in SECRET_FIELDS},
            "secrets_changed": changed,
        },
    ):
        access.check_tunnel(request.user, tunnel, "change")
        _check_destination(request.user, tunnel, data)
        new_options = data.get("options") or {}
        if "remote_bind" in new_options and new_options["remote_bind"] != (
            tunnel.options.get("remote_bind")
        ):
            _check_bind(request.user, new_options)
        for name in ("name", "target_port", "hostname", "runner"):
            if name in data:
                setattr(tunnel, name, data[name])
        if "options" in data:
            tunnel.options = {**tunnel.options, **data["options"]}
        secrets = open_secrets(tunnel)
        secrets.update({k: data[k] for k in changed})
        tunnel.secrets_sealed = _seal_secrets(secrets)
        _validate(tunnel, secrets)
        _save(tunnel)
    return tunnel


def delete_tunnel(tunnel: TunnelConfig, *, request: HttpRequest) -> None:
    """Remove a stopped tunnel and what the portal created at its provider."""
    with audited(
        Action.TUNNEL_DELETE,
        request=request,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        details=_details(tunnel),
    ):
        access.check_tunnel(request.user, tunnel, "delete")
        if tunnel.status in (TunnelStatus.RUNNING, TunnelStatus.STARTING):
            raise Conflict(
                f"tunnel '{tunnel.name}' is {tunnel.status}: stop it first "
                f"(POST /api/v1/tunnels/{tunnel.pk}/stop/).",
                code="tunnel_running",
            )
        _teardown(tunnel)
        access.drop_tunnel_grants(tunnel)
        tunnel.delete()


def _teardown(tunnel: TunnelConfig) -> None:
    provider_for(tunnel).teardown(tunnel, open_secrets(tunnel))
    supervision.remove_folder(tunnel.pk)


# Start and stop, as jobs ----------------------------------------------------------


def submit_start(tunnel: TunnelConfig, *, request: HttpRequest) -> Job:
    """Queue a start job; the tunnel shows 'starting' until it ends."""
    access.check_tunnel(request.user, tunnel, "operate")
    started = TunnelConfig.objects.filter(
        pk=tunnel.pk, status__in=(TunnelStatus.STOPPED, TunnelStatus.FAILED)
    ).update(
        status=TunnelStatus.STARTING,
        status_reason="",
        desired_running=True,
        failures=0,
        next_restart_at=None,
    )
    if not started:
        raise Conflict(
            f"tunnel '{tunnel.name}' is already {tunnel.status}.",
            code="tunnel_not_stopped",
        )
    try:
        return _submit(tunnel, Kind.TUNNEL_START, Action.TUNNEL_START, request)
    except Exception:
        # Not queued (the engine is down): the tunnel is as it was.
        TunnelConfig.objects.filter(pk=tunnel.pk).update(
            status=tunnel.status, desired_running=False
        )
        raise


def submit_stop(tunnel: TunnelConfig, *, request: HttpRequest) -> Job:
    """Queue a stop job; the beat check stops restarting the tunnel at once."""
    access.check_tunnel(request.user, tunnel, "operate")
    if not TunnelConfig.objects.filter(
        pk=tunnel.pk, status__in=(TunnelStatus.RUNNING, TunnelStatus.STARTING)
    ).update(desired_running=False):
        raise Conflict(
            f"tunnel '{tunnel.name}' is {tunnel.status}: nothing to stop.",
            code="tunnel_not_running",
        )
    try:
        return _submit(tunnel, Kind.TUNNEL_STOP, Action.TUNNEL_STOP, request)
    except Exception:
        TunnelConfig.objects.filter(pk=tunnel.pk).update(desired_running=True)
        raise


def _submit(tunnel: TunnelConfig, kind: str, action: str, request: HttpRequest) -> Job:
    return submit(
        kind,
        request=request,
        user=request.user,
        environment=tunnel.environment,
        target=tunnel.name,
        params={"tunnel": tunnel.pk},
        audit_action=action,
    )


def _job_tunnel(run: JobRun) -> TunnelConfig:
    tunnel = (
        TunnelConfig.objects.select_related("environment", "owner")
        .filter(pk=run.job.params["tunnel"])
        .first()
    )
    if tunnel is None:
        raise JobFailed("The tunnel was deleted after the job was queued.")
    return tunnel


def run_start(run: JobRun) -> dict[str, Any]:
    """The start job: bring the tunnel up, or mark it failed with the reason."""
    tunnel = _job_tunnel(run)
    if not tunnel.desired_running:
        run.emit("a stop was asked for before the start began: not started")
        return {"id": tunnel.pk, "status": tunnel.status}
    try:
        start_now(tunnel, run.emit)
    except PortalError as exc:
        _mark_failed(tunnel, str(exc.detail))
        raise JobFailed(str(exc.detail)) from exc
    if tunnel.status == TunnelStatus.RUNNING:
        run.emit(f"tunnel {tunnel.name} is up at {tunnel.public_url}")
    return {"id": tunnel.pk, "status": tunnel.status, "public_url": tunnel.public_url}


def run_stop(run: JobRun) -> dict[str, Any]:
    tunnel = _job_tunnel(run)
    stop_now(tunnel)
    run.emit(f"tunnel {tunnel.name} stopped")
    return {"id": tunnel.pk, "status": tunnel.status}


def start_now(tunnel: TunnelConfig, emit: Emit) -> None:
    """Start the tunnel's provider here and record where it runs."""
    provider = provider_for(tunnel)
    secrets = open_secrets(tunnel)
    target = (
        for_sidecar(tunnel)
        if tunnel.runner == Runner.SIDECAR
        else (for_process(tunnel))
    )
    provider.prepare(tunnel, secrets, target, emit)
    launch = provider.launch(tunnel, secrets, target)
    if tunnel.runner == Runner.SIDECAR:
        running = sidecar.start(tunnel, launch, target, emit)
    else:
        running = run_process(tunnel, launch, emit)
    _mark_running(tunnel, running)
    if not tunnel.desired_running:
        # A stop came while it was starting: it must not run unwatched.
        stop_now(tunnel, reason="stopped while it was starting")
        emit("stopped: a stop was asked for while it was starting")


def _mark_running(tunnel: TunnelConfig, running: Running) -> None:
    fields = {
        "status": TunnelStatus.RUNNING,
        "status_reason": "",
        "public_url": running.public_url,
        "pid": running.pid,
        "process_started": running.process_started,
        "supervisor_host": supervision.this_host() if running.pid else "",
        "sidecar_id": running.sidecar_id,
        "started_at": timezone.now(),
        "next_restart_at": None,
    }
    TunnelConfig.objects.filter(pk=tunnel.pk).update(**fields)
    tunnel.refresh_from_db()
    logger.info("tunnel %s running at %s", tunnel.pk, tunnel.public_url)


def _mark_failed(tunnel: TunnelConfig, reason: str) -> None:
    reason = mask(reason, _secret_values(tunnel))
    TunnelConfig.objects.filter(pk=tunnel.pk).update(
        status=TunnelStatus.FAILED,
        status_reason=reason,
        desired_running=False,
        pid=None,
        sidecar_id="",
        next_restart_at=None,
    )
    tunnel.refresh_from_db()
    logger.warning("tunnel %s failed: %s", tunnel.pk, reason)


def _process(tunnel: TunnelConfig) -> supervision.Process | None:
    if tunnel.pid is None or tunnel.process_started is None:
        return None
    return supervision.Process(tunnel.pid, tunnel.process_started)


def stop_now(tunnel: TunnelConfig, reason: str = "") -> None:
    """Stop the tunnel's process or sidecar; its provider setup stays."""
    process = _process(tunnel)
    if process is not None:
        supervision.terminate(process)
    if tunnel.sidecar_id:
        sidecar.remove(tunnel, tunnel.sidecar_id)
    # The plain copy of an SSH key exists only while its process needs it.
    (supervision.folder(tunnel.pk) / "id_key").unlink(missing_ok=True)
    TunnelConfig.objects.filter(pk=tunnel.pk).update(
        status=TunnelStatus.STOPPED,
        status_reason=reason,
        desired_running=False,
        pid=None,
        process_started=None,
        sidecar_id="",
        public_url="",
        next_restart_at=None,
    )
    tunnel.refresh_from_db()
    logger.info("tunnel %s stopped", tunnel.pk)


def is_alive(tunnel: TunnelConfig) -> bool:
    if tunnel.runner == Runner.SIDECAR:
        return sidecar.alive(tunnel)
    process = _process(tunnel)
    return process is not None and supervision.alive(process)


# Status and output ---------------------------------------------------------------


def status_of(tunnel: TunnelConfig) -> dict[str, Any]:
    """The tunnel's status, with whether its process really runs now."""
    local = tunnel.runner == Runner.SIDECAR or (
        tunnel.supervisor_host in ("", supervision.this_host())
    )
    alive = (
        is_alive(tunnel) if local and tunnel.status == TunnelStatus.RUNNING else None
    )
    return {
        "id": tunnel.pk,
        "status": tunnel.status,
        "reason": tunnel.status_reason,
        "public_url": tunnel.public_url,
        "process_alive": alive,
        "started_at": tunnel.started_at,
        "restarts": tunnel.restarts,
        "failures": tunnel.failures,
        "next_restart_at": tunnel.next_restart_at,
    }


def recent_output(tunnel: TunnelConfig, lines: int = 200) -> list[str]:
    """The provider process's last lines of output, secrets masked."""
    if tunnel.runner == Runner.SIDECAR:
        output = sidecar.logs(tunnel, lines)
    else:
        output = supervision.tail(supervision.log_path(tunnel.pk), lines)
    secrets = _secret_values(tunnel)
    return [mask(line, secrets) for line in output]


# The beat check ---------------------------------------------------------------------


def _backoff(failures: int) -> timedelta:
    base = settings.TUNNEL_RESTART_BACKOFF_SECONDS
    seconds = min(
        base * 2 ** max(0, failures - 1), settings.TUNNEL_RESTART_BACKOFF_MAX_SECONDS
    )
    return timedelta(seconds=seconds)


def check_tunnels() -> int:
    """Restart every tunnel that should run and does not; returns how many
    restarts were tried."""
    tried = 0
    candidates = TunnelConfig.objects.select_related("environment", "owner").filter(
        desired_running=True, status__in=(TunnelStatus.RUNNING, TunnelStatus.STARTING)
    )
    for tunnel in candidates:
        if tunnel.runner == Runner.PROCESS and tunnel.supervisor_host not in (
            "",
            supervision.this_host(),
        ):
            continue  # watched by the workers of its own machine
        try:
            tried += _check_one(tunnel)
        except Exception:
            logger.exception("checking tunnel %s failed", tunnel.pk)
    return tried


def _check_one(tunnel: TunnelConfig) -> int:
    now = timezone.now()
    if tunnel.status == TunnelStatus.RUNNING:
        if is_alive(tunnel):
            _forgive(tunnel, now)
            return 0
        _dropped(tunnel, now)
    if tunnel.status == TunnelStatus.STARTING and tunnel.next_restart_at is None:
        _fail_if_start_job_ended(tunnel)
        return 0  # a start job is at work
    if tunnel.next_restart_at and tunnel.next_restart_at > now:
        return 0
    _restart(tunnel)
    return 1


def _fail_if_start_job_ended(tunnel: TunnelConfig) -> None:
    # A start job whose worker died is marked errored by the job reaper;
    # the tunnel it left "starting" is failed here, with that reason.
    job = (
        Job.objects.filter(kind=Kind.TUNNEL_START, params__tunnel=tunnel.pk)
        .order_by("-queued_at")
        .first()
    )
    if job is not None and job.finished:
        _mark_failed(tunnel, f"the start job ended {job.status}: {job.error}")


def _forgive(tunnel: TunnelConfig, now: Any) -> None:
    stable = tunnel.started_at and now - tunnel.started_at > timedelta(
        seconds=STABLE_SECONDS
    )
    if tunnel.failures and stable:
        TunnelConfig.objects.filter(pk=tunnel.pk).update(failures=0)


def _dropped(tunnel: TunnelConfig, now: Any) -> None:
    """The process died: schedule a restart after the backoff."""
    failures = tunnel.failures + 1
    TunnelConfig.objects.filter(pk=tunnel.pk, status=TunnelStatus.RUNNING).update(
        status=TunnelStatus.STARTING,
        status_reason=f"the tunnel process exited; restart {failures} scheduled",
        failures=failures,
        pid=None,
        next_restart_at=now + _backoff(failures),
    )
    tunnel.refresh_from_db()
    logger.warning("tunnel %s dropped (failure %d)", tunnel.pk, failures)


def _restart(tunnel: TunnelConfig) -> None:
    attempt = tunnel.failures
    if attempt > settings.TUNNEL_MAX_RESTARTS:
        _give_up(tunnel)
        return
    try:
        if tunnel.sidecar_id:
            sidecar.remove(tunnel, tunnel.sidecar_id)
        start_now(tunnel, lambda text: None)
    except PortalError as exc:
        reason = mask(str(exc.detail), _secret_values(tunnel))
        _audit_restart(tunnel, attempt, Outcome.FAILURE, reason)
        failures = attempt + 1
        TunnelConfig.objects.filter(pk=tunnel.pk).update(
            status_reason=f"restart {attempt} failed: {reason}"[:2000],
            failures=failures,
            next_restart_at=timezone.now() + _backoff(failures),
        )
        if failures > settings.TUNNEL_MAX_RESTARTS:
            tunnel.refresh_from_db()
            _give_up(tunnel)
        return
    TunnelConfig.objects.filter(pk=tunnel.pk).update(restarts=tunnel.restarts + 1)
    tunnel.refresh_from_db()
    _audit_restart(tunnel, attempt, Outcome.SUCCESS, "")


def _audit_restart(
    tunnel: TunnelConfig, attempt: int, outcome: str, reason: str
) -> None:
    record(
        Action.TUNNEL_RESTART,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        outcome=Outcome(outcome),
        reason=reason,
        details=_details(tunnel, attempt=attempt),
    )


def _give_up(tunnel: TunnelConfig) -> None:
    reason = (
        f"gave up after {tunnel.failures - 1} restarts in a row that failed or "
        f"did not last {STABLE_SECONDS} s; last: {tunnel.status_reason}"
    )
    _mark_failed(tunnel, reason)
    record(
        Action.TUNNEL_FAIL,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        outcome=Outcome.FAILURE,
        reason=tunnel.status_reason,
        details=_details(tunnel),
    )


# Following containers ---------------------------------------------------------


def container_removed(environment: Environment, engine_id: str) -> int:
    """Stop and tear down the tunnels of a removed container.

    Tunnels made from the container's labels go with it; the others stay,
    stopped, with the reason, so their owner can point them elsewhere.
    """
    tunnels = list(
        TunnelConfig.objects.select_related("environment", "owner").filter(
            environment=environment, container_id=engine_id
        )
    )
    for tunnel in tunnels:
        try:
            _tear_down_for_removal(tunnel)
        except PortalError as exc:
            # The container is gone either way; what the provider still
            # holds stays listed, so deleting the tunnel later retries.
            TunnelConfig.objects.filter(pk=tunnel.pk).update(
                status_reason=f"its container was removed; teardown failed: "
                f"{exc.detail}"[:2000]
            )
            logger.warning("teardown of tunnel %s failed: %s", tunnel.pk, exc)
    return len(tunnels)


def _tear_down_for_removal(tunnel: TunnelConfig) -> None:
    reason = "its container was removed"
    with audited(
        Action.TUNNEL_DELETE if tunnel.from_labels else Action.TUNNEL_STOP,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        details=_details(tunnel, reason=reason),
    ):
        stop_now(tunnel, reason=reason)
        _teardown(tunnel)
        if tunnel.from_labels:
            access.drop_tunnel_grants(tunnel)
            tunnel.delete()


def discard(tunnel: TunnelConfig, reason: str) -> None:
    """Stop and tear down a tunnel that is about to be deleted with its
    environment; a provider that refuses is logged, not fatal."""
    outcome, failure = Outcome.SUCCESS, ""
    try:
        stop_now(tunnel, reason=reason)
        _teardown(tunnel)
    except PortalError as exc:
        outcome, failure = Outcome.FAILURE, f"teardown failed: {exc.detail}"
        logger.warning("teardown of tunnel %s failed: %s", tunnel.pk, exc)
    access.drop_tunnel_grants(tunnel)
    record(
        Action.TUNNEL_DELETE,
        resource_type="tunnel",
        resource_id=str(tunnel.pk),
        resource_name=tunnel.name,
        outcome=outcome,
        reason=failure,
        details=_details(tunnel, reason=reason),
    )


def forget_removed_targets() -> int:
    """Tear down tunnels whose container was removed outside the portal."""
    count = 0
    for tunnel in TunnelConfig.objects.select_related("environment", "owner").exclude(
        status=TunnelStatus.STOPPED, created_at_provider={}
    ):
        try:
            inspect(tunnel)
        except TargetGone:
            _tear_down_for_removal(tunnel)
            count += 1
        except PortalError:
            continue  # the engine is down: decide later
    return count
