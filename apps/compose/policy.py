"""The container security policy, applied to Compose files of non-admins.

Two passes. The text as typed is read for what Compose resolves into
nothing visible later: files it reads (``env_file``, build contexts,
secrets and configs), which must stay inside the project's folder, other
files read as compose files (``include``, ``extends.file``: the folder
holds nothing but compose.yaml and the ``.env``), and ``.env`` lines that
would steer the CLI itself.
Then the normalised model from ``docker compose config`` is read, service
by service, through apps/containers/policy.py: interpolation, ``extends``
and profiles are resolved there, so ``privileged: ${X:-true}`` cannot slip
past. Every refusal names the service and the key.

Existing volumes and networks the project did not create (``external``, or
a ``name:`` that exists) need the access the containers API asks for them.
Build and runtime options that leave the sandbox are refused in both
passes: in the text, so that a Compose too old to know a key never gets to
run it once upgraded, and in the model.

Known shortcomings: a volume or network counts as the project's own when
its Compose project label names this project, so one left behind by an
earlier project of the same name is taken over. The text pass reads
values before interpolation: ``build.network: ${NET:-default}`` is
refused, though it would resolve to ``default``. ``build.network`` may
not name a network even one the user may join (only default or none).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

from apps.accounts import access
from apps.containers import policy as container_policy
from apps.containers.engine import engine_for
from apps.containers.models import Environment
from apps.containers.policy import Allowances, PolicyRefused, Refusal
from dockpilot.errors import NotFound

logger = logging.getLogger("dockpilot.compose.policy")

# Keys of the container policy's spec, named as a compose file names them.
_COMPOSE_KEY = {
    "mounts": "volumes",
    "network": "network_mode",
    "pid_mode": "pid",
    "ipc_mode": "ipc",
    "uts_mode": "uts",
}
_FILES_WHY = (
    "a file outside the project's folder reaches the host's files; keep it "
    "inside the project (a relative path without '..')."
)
# The project's folder holds only compose.yaml and the .env the portal
# writes. A .env written as YAML and read as a compose file would bring in
# keys the text pass never saw (an env_file of any host file, resolved into
# plain environment by the time the model is read).
_READ_AS_COMPOSE_WHY = (
    "only the project's own compose.yaml is read as a compose file; write the "
    "services into it (a service extends another of the same file without "
    "'file')."
)
_CONTAINER_WHY = "another container's volumes reach into that container."
_HOST_WHY = "sharing the host's namespace takes the container out of its own."
_DEVICE_WHY = "a device rule gives the container direct access to hardware."
_ENV_WHY = "it would change how the portal runs docker compose."
_VOLUME_WHY = (
    "it is an existing volume this project did not create and you may not use "
    "it; use a volume of the project, or ask its owner for access."
)
_NETWORK_WHY = (
    "it is an existing network this project did not create and you may not "
    "join it; use a network of the project, or ask its owner for access."
)
_BUILD_WHY = "it lets the build step out of its sandbox or reach the host."
_RUNTIME_WHY = "it changes how the engine runs the container on the host."
_HOOK_WHY = "a privileged hook gives the process every capability."
# Networks every engine has; joining them needs no grant ("host" meets the
# policy as network_mode does).
_PREDEFINED_NETWORKS = ("bridge", "none", "default")
_BUILD_NETWORKS = ("", "default", "none")
# Build keys that reach past the build's sandbox: the host's network or
# devices, the portal's SSH agent, files outside the project.
_BUILD_KEYS = ("privileged", "entitlements", "ssh", "additional_contexts")
# Service keys that choose how the engine runs the container on the host.
_RUNTIME_KEYS = ("gpus", "runtime", "cgroup_parent")


def _refused(service: str, key: str, value: str, why: str) -> PolicyRefused:
    where = f"service '{service}'" if service else "compose file"
    return PolicyRefused(
        f"{where}, {key}: '{value}' is refused: {why} Only admins may use it.",
        details={"service": service, "key": key, "value": value},
    )


def _inside(path: str, directory: str) -> bool:
    if "$" in path or path.startswith("~"):
        return False
    joined = posixpath.normpath(posixpath.join(directory, path))
    return joined == directory or joined.startswith(directory.rstrip("/") + "/")


def _env_files(value: Any) -> Iterator[str]:
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            yield str(entry.get("path", ""))
        elif entry is not None:
            yield str(entry)


def _typed_files(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(service, key, path) of every file the raw text asks Compose to read."""
    for name, service in (data.get("services") or {}).items():
        if not isinstance(service, dict):
            continue
        for path in _env_files(service.get("env_file")):
            yield name, "env_file", path
        for path in _env_files(service.get("label_file")):
            yield name, "label_file", path
        extends = service.get("extends")
        if isinstance(extends, dict) and "file" in extends:
            yield name, "extends.file", str(extends["file"])
        build = service.get("build")
        if isinstance(build, str):
            yield name, "build", build
        elif isinstance(build, dict):
            yield name, "build.context", str(build.get("context", "."))
            if "dockerfile" in build:
                yield name, "build.dockerfile", str(build["dockerfile"])
    for key in ("secrets", "configs"):
        for name, entry in (data.get(key) or {}).items():
            if isinstance(entry, dict) and "file" in entry:
                yield "", f"{key}.{name}.file", str(entry["file"])
    for entry in data.get("include") or []:
        paths = entry.get("path", []) if isinstance(entry, dict) else entry
        for path in paths if isinstance(paths, list) else [paths]:
            yield "", "include", str(path)


def check_text(
    user: Any, data: Mapping[str, Any], env_text: str, directory: str
) -> None:
    """Refuse, for a non-admin, files outside the folder and CLI settings in .env."""
    if getattr(user, "is_admin", False):
        return
    for service, key, path in _typed_files(data):
        if not _inside(path, directory):
            raise _refused(service, key, path, _FILES_WHY)
        if key in ("include", "extends.file"):
            raise _refused(service, key, path, _READ_AS_COMPOSE_WHY)
    # Read in the text too: a Compose too old to know a key would reject
    # it anyway, one that knows it must never get to run it.
    for name, service in (data.get("services") or {}).items():
        if isinstance(service, dict):
            _check_build(str(name), service, directory)
            _check_runtime(str(name), service)
    for line in env_text.splitlines():
        variable = env_key(line)
        if variable.upper().startswith(("COMPOSE_", "DOCKER_")):
            raise _refused("", ".env", variable, _ENV_WHY)


# As Compose's dotenv parser reads a key: an optional "export" and any
# whitespace, then the name up to "=", ":" or whitespace, maybe quoted.
_EXPORT = re.compile(r"^export\s+")
_KEY_END = re.compile(r"[=:\s]")


def env_key(line: str) -> str:
    """The variable a ``.env`` line sets, read the way Compose reads it."""
    text = _EXPORT.sub("", line.strip())
    return _KEY_END.split(text, maxsplit=1)[0].strip("'\"")


def _mounts(service: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    mounts, named = [], []
    for volume in service.get("volumes") or []:
        kind = volume.get("type", "volume")
        if kind == "volume" and volume.get("source"):
            named.append(str(volume["source"]))
        elif kind in ("bind", "npipe"):
            mounts.append({"type": "bind", "source": str(volume.get("source", ""))})
    return mounts, named


def _devices(service: Mapping[str, Any]) -> list[str]:
    found = []
    for device in service.get("devices") or []:
        found.append(
            str(device.get("source", "")) if isinstance(device, dict) else str(device)
        )
    return found


def _sysctls(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {str(item).split("=", 1)[0]: "" for item in value or []}


def container_spec(service: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised compose service in the container policy's terms."""
    mounts, _ = _mounts(service)
    return {
        "privileged": bool(service.get("privileged")),
        "mounts": mounts,
        "network": service.get("network_mode") or "",
        "pid_mode": service.get("pid") or "",
        "ipc_mode": service.get("ipc") or "",
        "uts_mode": service.get("uts") or "",
        "userns_mode": service.get("userns_mode") or "",
        "cap_add": service.get("cap_add") or [],
        "devices": _devices(service),
        "security_opt": service.get("security_opt") or [],
        "sysctls": _sysctls(service.get("sysctls")),
    }


def _volume_document(
    environment: Environment, key: str, top: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """What a named volume will be: the engine's, if it exists, else the file's;
    and whether it exists.

    Compose reuses a volume that already exists under the name (and an
    external one always does): one an admin bound to a host path must count
    as that path.
    """
    try:
        found = engine_for(environment).get_json("/volumes/{0}", top.get("name") or key)
        return dict(found), True
    except NotFound:
        declared = {
            "Driver": top.get("driver") or container_policy.LOCAL_DRIVER,
            "Options": top.get("driver_opts") or {},
        }
        return declared, False


def _service_refusals(
    environment: Environment,
    service: Mapping[str, Any],
    volumes: Mapping[str, Any],
    allow: Allowances,
) -> Iterator[Refusal]:
    spec = container_spec(service)
    _, named = _mounts(service)
    found = {
        name: _volume_document(environment, name, volumes.get(name) or {})
        for name in named
    }
    documents = {name: document for name, (document, _) in found.items()}
    yield from container_policy.container_refusals(spec, allow, documents)
    for name, (document, exists) in found.items():
        # Only a volume the file creates: an existing one was made by someone
        # allowed to, and mounting it mounts nothing new on the host.
        if not exists:
            yield from container_policy.network_volume_refusals(name, document, allow)
    for source in service.get("volumes_from") or []:
        if str(source).startswith("container:"):
            yield Refusal("volumes_from", str(source), "", _CONTAINER_WHY)
    for rule in service.get("device_cgroup_rules") or []:
        yield Refusal("device_cgroup_rules", str(rule), "", _DEVICE_WHY)
    if service.get("cgroup") == "host":
        yield Refusal("cgroup", "host", "", _HOST_WHY)
    reservations = ((service.get("deploy") or {}).get("resources") or {}).get(
        "reservations"
    ) or {}
    for device in reservations.get("devices") or []:
        shown = ",".join(device.get("capabilities") or []) or "device"
        yield Refusal("deploy.resources.reservations.devices", shown, "", _DEVICE_WHY)


def check_model(
    user: Any, environment: Environment, model: Mapping[str, Any], directory: str
) -> None:
    """Refuse, for a non-admin, what the normalised model asks that escapes."""
    if getattr(user, "is_admin", False):
        return
    allow = Allowances(environment.policy_allow)
    volumes = model.get("volumes") or {}
    services = model.get("services") or {}
    for name, service in sorted(services.items()):
        for refusal in _service_refusals(environment, service, volumes, allow):
            key = _COMPOSE_KEY.get(refusal.setting, refusal.setting)
            value = refusal.value
            if key.startswith("volume '"):
                # A named volume whose driver options bind a host path.
                key, value = "volumes", f"{value} (through {refusal.setting})"
            logger.warning(
                "refused %s.%s=%s for %s on %s",
                name,
                key,
                value,
                getattr(user, "username", "-"),
                environment.name,
            )
            raise _refused(name, key, value, refusal.why)
        _check_build(name, service, directory)
        _check_runtime(name, service)
    for key in ("secrets", "configs"):
        for name, entry in (model.get(key) or {}).items():
            path = str((entry or {}).get("file", ""))
            if path and not _inside(path, directory):
                raise _refused("", f"{key}.{name}.file", path, _FILES_WHY)
    project = str(model.get("name") or "")
    _check_volumes(user, environment, project, services, volumes)
    _check_networks(user, environment, project, services, model.get("networks") or {})


def _check_build(name: str, service: Mapping[str, Any], directory: str) -> None:
    build = service.get("build") or {}
    if not isinstance(build, dict):
        return
    context = str(build.get("context", ""))
    if context and "://" not in context and not _inside(context, directory):
        raise _refused(name, "build.context", context, _FILES_WHY)
    network = str(build.get("network") or "")
    if network not in _BUILD_NETWORKS:
        raise _refused(name, "build.network", network, _BUILD_WHY)
    for key in _BUILD_KEYS:
        if build.get(key):
            raise _refused(name, f"build.{key}", _shown(build[key]), _BUILD_WHY)


def _check_runtime(name: str, service: Mapping[str, Any]) -> None:
    for key in _RUNTIME_KEYS:
        if service.get(key):
            raise _refused(name, key, _shown(service[key]), _RUNTIME_WHY)
    # post_start and pre_stop hooks run as an exec in the container.
    for key in ("post_start", "pre_stop"):
        for hook in service.get(key) or []:
            if isinstance(hook, dict) and hook.get("privileged"):
                raise _refused(name, f"{key}.privileged", "true", _HOOK_WHY)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _users_of(services: Mapping[str, Any], key: str) -> list[str]:
    """The services that mount the top-level volume ``key``."""
    return sorted(
        name
        for name, service in services.items()
        if any(
            volume.get("type", "volume") == "volume" and volume.get("source") == key
            for volume in service.get("volumes") or []
        )
    )


def _writes(services: Mapping[str, Any], key: str) -> bool:
    return any(
        volume.get("source") == key and not volume.get("read_only")
        for service in services.values()
        for volume in service.get("volumes") or []
    )


def _existing(environment: Environment, path: str, ident: str) -> dict[str, Any] | None:
    try:
        return dict(engine_for(environment).get_json(path, ident))
    except NotFound:
        return None


def _of_project(document: Mapping[str, Any], project: str) -> bool:
    labels = document.get("Labels") or {}
    return bool(project) and labels.get(access.PROJECT_LABEL) == project


def _check_volumes(
    user: Any,
    environment: Environment,
    project: str,
    services: Mapping[str, Any],
    volumes: Mapping[str, Any],
) -> None:
    """Refuse an existing volume the project did not create, unless usable.

    The containers API's rule: "view" to mount a volume read-only, "change"
    to write to it. A volume Compose manages (not external) needs "change"
    whatever the mounts: ``down --volumes`` removes it.
    """
    for key, entry in sorted(volumes.items()):
        entry = entry or {}
        volume = str(entry.get("name") or key)
        document = _existing(environment, "/volumes/{0}", volume)
        if document is None:
            continue
        external = bool(entry.get("external"))
        if not external and _of_project(document, project):
            continue
        verb = "change" if _writes(services, key) or not external else "view"
        if not access.can(user, environment, "volume", volume, verb):
            users = _users_of(services, key)
            raise _refused(
                users[0] if users else "", f"volumes.{key}", volume, _VOLUME_WHY
            )


def _check_networks(
    user: Any,
    environment: Environment,
    project: str,
    services: Mapping[str, Any],
    networks: Mapping[str, Any],
) -> None:
    """Refuse joining an existing network the project did not create.

    As for a container: joining a network reaches every container on it,
    which needs "change" on it; the host network meets the policy as
    ``network_mode: host`` does.
    """
    allow = Allowances(environment.policy_allow)
    for key, entry in sorted(networks.items()):
        entry = entry or {}
        network = str(entry.get("name") or key)
        users = sorted(
            name
            for name, service in services.items()
            if key in (service.get("networks") or {})
        )
        where = users[0] if users else ""
        if network == "host":
            if "network_mode:host" not in allow:
                raise _refused(where, f"networks.{key}", network, _HOST_WHY)
            continue
        if network in _PREDEFINED_NETWORKS:
            continue
        document = _existing(environment, "/networks/{0}", network)
        if document is None:
            continue
        if not entry.get("external") and _of_project(document, project):
            continue
        if not access.can(user, environment, "network", network, "change"):
            raise _refused(where, f"networks.{key}", network, _NETWORK_WHY)
    for name, service in sorted(services.items()):
        mode = str(service.get("network_mode") or "")
        # A plain name joins that network, as "network" of a container does.
        named = bool(mode) and ":" not in mode
        joins = named and mode not in (*_PREDEFINED_NETWORKS, "host")
        if joins and not access.can(user, environment, "network", mode, "change"):
            raise _refused(name, "network_mode", mode, _NETWORK_WHY)
