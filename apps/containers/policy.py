"""The container security policy: what non-admins may not ask of an engine.

Whoever can start a privileged container, mount a host path or join the
host's namespaces owns the host: the Docker socket is root-equivalent, and
these settings hand that power to the container. Admins may use them; for
everyone else each is refused unless an admin allowed that exact item for
the environment, in ``Environment.policy_allow``:

    privileged                  privileged mode
    bind:/srv/shared            host paths under /srv/shared (binds, bind
                                mounts, local volumes backed by a host path)
    docker_socket               the Docker socket (never implied by bind:)
    network_mode:host           likewise pid_mode, ipc_mode, uts_mode and
                                userns_mode
    network_mode:container      joining another container's namespace
                                (likewise pid_mode and ipc_mode)
    cap_add:NET_ADMIN           one added capability
    device:/dev/fuse            one host device
    security_opt:no-new-privileges  one security option, as written
    sysctl:net.ipv4.ip_forward  one sysctl
    exec_privileged, exec_user  privileged exec; exec as another user
    volume_type:nfs             a local volume of that network file system
                                (likewise nfs4, cifs, smb3)
    compose_labels              com.docker.compose.* labels on a container
                                created through the containers API

Every path that can set these calls in here: creating a container now, and
exec, recreate and Compose files as they arrive.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dockpilot.errors import PortalError

from .models import Environment

logger = logging.getLogger("dockpilot.containers.policy")

SOCKET_PATHS = ("/var/run/docker.sock", "/run/docker.sock")
NAMESPACE_SETTINGS = ("network_mode", "pid_mode", "ipc_mode", "uts_mode", "userns_mode")
LOCAL_DRIVER = "local"

_WHY = {
    "privileged": "privileged mode gives the container every capability and the "
    "host's devices.",
    "bind": "a host path mounted into the container reaches the host's files.",
    "docker_socket": "the Docker socket gives full control of the host.",
    "host": "sharing the host's namespace takes the container out of its own.",
    "container": "joining another container's namespace reaches into that container.",
    "cap_add": "an added capability lifts a limit the engine sets on purpose.",
    "device": "a host device gives the container direct access to hardware.",
    "security_opt": "security options can switch off confinement (seccomp, "
    "AppArmor, SELinux).",
    "sysctl": "sysctls change kernel settings.",
    "exec_privileged": "a privileged exec gives the process every capability.",
    "exec_user": "exec as another user than the container's can gain its rights.",
    "volume_type": "the host mounts a network file system from its own network, "
    "reaching servers (its own loopback among them) that containers cannot.",
    "compose_labels": "Compose's labels would place the container in a Compose "
    "project, whose owner would take it for one of their services.",
}
# Labels that Compose sets on the containers of a project: the portal reads
# them to decide which project a container belongs to.
COMPOSE_LABEL_PREFIX = "com.docker.compose."


class PolicyRefused(PortalError):
    """A setting that the container security policy keeps for admins."""

    status_code = 403
    default_code = "policy_refused"


@dataclass(frozen=True)
class Refusal:
    setting: str
    value: str
    allow_item: str
    why: str

    def error(self, environment: Environment) -> PolicyRefused:
        return PolicyRefused(
            f"{self.setting}: '{self.value}' is refused: {self.why} Only admins may "
            f"use it; an admin can allow '{self.allow_item}' on environment "
            f"'{environment.name}'.",
            details={
                "field": self.setting,
                "setting": self.setting,
                "value": self.value,
                "allow": self.allow_item,
            },
        )


class Allowances:
    """The policy exceptions an admin set on one environment."""

    def __init__(self, items: list[str] | None) -> None:
        self.items = {str(item).strip() for item in items or []}

    def __contains__(self, item: str) -> bool:
        return item in self.items

    def path(self, path: str) -> bool:
        # Known shortcoming: paths are compared as text, while the engine
        # follows symlinks on the host. A user who may write into an allowed
        # "bind:" directory can plant a link there and mount the link's
        # target. Allow only directories that non-admins cannot write to,
        # until the check resolves links on the engine's host.
        prefixes = [
            item[len("bind:") :] for item in self.items if item.startswith("bind:")
        ]
        return any(is_under(path, prefix) for prefix in prefixes if prefix)


_ITEM = re.compile(
    r"^(privileged|docker_socket|exec_privileged|exec_user"
    r"|bind:/.*|device:/.*"
    r"|(network|pid|ipc|uts|userns)_mode:host|(network|pid|ipc)_mode:container"
    r"|cap_add:[A-Z_]+|security_opt:.+|sysctl:[a-z0-9_.-]+)$"
)


def unknown_items(items: list[str]) -> list[str]:
    """The entries of an allow-list that name no policy item."""
    return [item for item in items if not _ITEM.match(item)]


def normal(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/"))


def is_under(path: str, prefix: str) -> bool:
    path, prefix = normal(path), normal(prefix)
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def exposes_socket(path: str) -> bool:
    """Whether mounting ``path`` puts the Docker socket in the container.

    A parent directory (``/run``, ``/var``, ``/``) holds the socket too.
    """
    path = normal(path)
    return path.endswith("docker.sock") or any(
        is_under(socket, path) for socket in SOCKET_PATHS
    )


# Local-driver mount types whose options cannot name a path on the host:
# memory, and network file systems (their device is on another machine).
_NO_HOST_PATH_TYPES = frozenset({"tmpfs", "nfs", "nfs4", "cifs", "smb3"})
# The host mounts these from its own network namespace: they reach servers
# the containers cannot, the host's own loopback among them.
_NETWORK_TYPES = frozenset({"nfs", "nfs4", "cifs", "smb3"})


def volume_host_path(document: Mapping[str, Any]) -> str | None:
    """The host path behind a local volume, if its options bind one.

    The local driver runs ``mount -t <type> -o <o> <device>``: a bind (``o``
    holds bind or rbind, or ``type`` is none) or a device that is a path
    reaches the host.
    """
    if document.get("Driver", LOCAL_DRIVER) != LOCAL_DRIVER:
        return None
    options = document.get("Options") or {}
    if not options:
        return None
    raw_flags = [flag.strip() for flag in str(options.get("o", "")).split(",")]
    flags = {flag.lower() for flag in raw_flags}
    device = str(options.get("device", "")).strip()
    mount_type = str(options.get("type", "")).strip().lower()
    if flags & {"bind", "rbind"} or (device and mount_type == "none"):
        return device or "/"
    if device.startswith("/"):
        return device
    if mount_type in _NO_HOST_PATH_TYPES:
        return None
    # Any other type may name host paths in its options (overlay's lowerdir,
    # upperdir and workdir): it reaches the host unless an admin allows it.
    named = [flag.split("=", 1)[1] for flag in raw_flags if "=" in flag]
    paths = [path for value in named for path in value.split(":") if "/" in path]
    return paths[0] if paths else (device or f"{mount_type or 'mount'}:")


def _host_path(setting: str, path: str, allow: Allowances) -> Iterator[Refusal]:
    if exposes_socket(path):
        if "docker_socket" not in allow:
            yield Refusal(setting, path, "docker_socket", _WHY["docker_socket"])
    elif not allow.path(path):
        yield Refusal(setting, path, f"bind:{normal(path)}", _WHY["bind"])


def _bind_source(bind: str) -> str:
    return bind.split(":", 1)[0]


def _paths(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for volume in spec.get("volumes") or []:
        if volume["source"].startswith("/"):
            yield "volumes", volume["source"]
    for bind in spec.get("binds") or []:
        if _bind_source(bind).startswith("/"):
            yield "binds", _bind_source(bind)
    for mount in spec.get("mounts") or []:
        if mount.get("type") == "bind":
            yield "mounts", mount.get("source", "")


def named_volumes(spec: Mapping[str, Any]) -> dict[str, bool]:
    """Named volumes a spec mounts, each with whether any mount writes to it."""
    found: dict[str, bool] = {}

    def add(name: str, read_only: bool) -> None:
        found[name] = found.get(name, False) or not read_only

    for volume in spec.get("volumes") or []:
        if not volume["source"].startswith("/"):
            add(volume["source"], volume.get("read_only", False))
    for bind in spec.get("binds") or []:
        source = _bind_source(bind)
        if not source.startswith("/"):
            add(source, bind.count(":") >= 2 and "ro" in bind.rsplit(":", 1)[1])
    for mount in spec.get("mounts") or []:
        if mount.get("type") == "volume" and mount.get("source"):
            add(mount["source"], mount.get("read_only", False))
    return found


def _namespace(setting: str, value: str, allow: Allowances) -> Iterator[Refusal]:
    # The create body calls the network mode "network", as the CLI does.
    field = "network" if setting == "network_mode" else setting
    if value == "host" and f"{setting}:host" not in allow:
        yield Refusal(field, value, f"{setting}:host", _WHY["host"])
    if value.startswith("container:") and f"{setting}:container" not in allow:
        yield Refusal(field, value, f"{setting}:container", _WHY["container"])


def _listed(
    setting: str, item: str, values: Any, allow: Allowances
) -> Iterator[Refusal]:
    for value in values or []:
        if f"{item}:{value}" not in allow:
            yield Refusal(setting, str(value), f"{item}:{value}", _WHY[item])


def container_refusals(
    spec: Mapping[str, Any],
    allow: Allowances,
    volumes: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[Refusal]:
    """Every setting of a container spec that a non-admin may not use.

    ``volumes`` holds the inspect documents of the named volumes the spec
    mounts, so that a local volume bound to a host path counts as that path.
    """
    if spec.get("privileged") and "privileged" not in allow:
        yield Refusal("privileged", "true", "privileged", _WHY["privileged"])

    for setting, path in _paths(spec):
        yield from _host_path(setting, path, allow)
    for name, document in (volumes or {}).items():
        host_path = volume_host_path(document)
        if host_path is not None:
            yield from _host_path(f"volume '{name}'", host_path, allow)

    for setting in NAMESPACE_SETTINGS:
        value = spec.get("network" if setting == "network_mode" else setting)
        yield from _namespace(setting, str(value or ""), allow)

    caps = [str(cap).upper().removeprefix("CAP_") for cap in spec.get("cap_add") or []]
    yield from _listed("cap_add", "cap_add", caps, allow)
    devices = [str(device).split(":", 1)[0] for device in spec.get("devices") or []]
    yield from _listed("devices", "device", devices, allow)
    yield from _listed("security_opt", "security_opt", spec.get("security_opt"), allow)
    yield from _listed("sysctls", "sysctl", sorted(spec.get("sysctls") or {}), allow)
    yield from label_refusals(spec.get("labels"), allow)


def _compose_keys(labels: Mapping[str, str] | None, allow: Allowances) -> list[str]:
    if "compose_labels" in allow:
        return []
    return [key for key in labels or {} if key.startswith(COMPOSE_LABEL_PREFIX)]


def label_refusals(
    labels: Mapping[str, str] | None, allow: Allowances
) -> Iterator[Refusal]:
    """Compose's labels given to a container or a build."""
    for key in _compose_keys(labels, allow):
        yield Refusal("labels", key, "compose_labels", _WHY["compose_labels"])


def image_refusals(
    image: str, image_labels: Mapping[str, str] | None, allow: Allowances
) -> Iterator[Refusal]:
    """Compose's labels an image would give every container made from it."""
    why = _WHY["compose_labels"] + " The image carries that label."
    for key in _compose_keys(image_labels, allow):
        yield Refusal("image", f"{image} ({key})", "compose_labels", why)


def check_container(
    user: Any,
    environment: Environment,
    spec: Mapping[str, Any],
    volumes: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Refuse (403, naming the setting) a spec that escapes its container."""
    if getattr(user, "is_admin", False):
        return
    allow = Allowances(environment.policy_allow)
    for refusal in container_refusals(spec, allow, volumes):
        logger.warning(
            "refused %s=%s for %s on %s",
            refusal.setting,
            refusal.value,
            getattr(user, "username", "-"),
            environment.name,
        )
        raise refusal.error(environment)


def check_volume_options(
    user: Any, environment: Environment, driver: str, options: Mapping[str, str]
) -> None:
    """Refuse creating a local volume that binds a host path or mounts a
    network file system, unless allowed."""
    if getattr(user, "is_admin", False):
        return
    document = {"Driver": driver, "Options": dict(options)}
    allow = Allowances(environment.policy_allow)
    host_path = volume_host_path(document)
    if host_path is not None:
        for refusal in _host_path("driver_opts", host_path, allow):
            raise refusal.error(environment)
    # Known shortcoming: a tmpfs volume's size is not bounded here, so a
    # large one can take the host's memory.
    for refusal in network_volume_refusals("", document, allow):
        raise refusal.error(environment)


def network_volume_refusals(
    name: str, document: Mapping[str, Any], allow: Allowances
) -> Iterator[Refusal]:
    """A local volume of a network file system, unless allowed."""
    options = document.get("Options") or {}
    mount_type = str(options.get("type", "")).strip().lower()
    if (document.get("Driver") or LOCAL_DRIVER) != LOCAL_DRIVER:
        return
    item = f"volume_type:{mount_type}"
    if mount_type in _NETWORK_TYPES and item not in allow:
        setting = f"volume '{name}'" if name else "driver_opts"
        yield Refusal(setting, f"type={mount_type}", item, _WHY["volume_type"])


def check_exec(
    user: Any,
    environment: Environment,
    *,
    privileged: bool,
    exec_user: str | None,
    container_user: str,
) -> None:
    """Refuse a privileged exec, or one as another user, for non-admins."""
    if getattr(user, "is_admin", False):
        return
    allow = Allowances(environment.policy_allow)
    if privileged and "exec_privileged" not in allow:
        raise Refusal(
            "privileged", "true", "exec_privileged", _WHY["exec_privileged"]
        ).error(environment)
    if exec_user and exec_user != container_user and "exec_user" not in allow:
        raise Refusal("user", exec_user, "exec_user", _WHY["exec_user"]).error(
            environment
        )
