"""Checking a compose file: YAML first (with its line), then Compose itself.

PyYAML reports a syntax error at its line and column. ``docker compose
config`` then checks the schema, interpolation and references, but names a
schema error by its path (``services.web``) without a line: the path is
found in the parsed YAML to give the line back.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apps.containers.models import Environment
from dockpilot.errors import BadRequest

from . import cli
from .files import staged

logger = logging.getLogger("dockpilot.compose.validation")

MAX_COMPOSE_BYTES = 512 * 1024
# Aliases let a small file stand for a huge one ("billion laughs"): PyYAML
# shares the nodes, but docker compose expands them all. A real compose
# file, aliases expanded, has a few thousand nodes.
MAX_EXPANDED_NODES = 100_000
_SCHEMA = re.compile(r"^validating [^:]+: (?P<path>[^\s]+) (?P<message>.+)$")
_UNKNOWN = re.compile(r"Additional property (?P<key>\S+) is not allowed")
_PATHLIKE = re.compile(r"(?P<path>services(?:\.[A-Za-z0-9_.-]+)+)")


class InvalidCompose(BadRequest):
    default_code = "invalid_compose"


class ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads it: only ``true``/``false`` are booleans.

    PyYAML follows YAML 1.1, where ``on``, ``yes``, ``off`` and ``no`` are
    booleans too; Compose follows YAML 1.2, where they are strings. A
    service named ``on`` must have the name Compose gives it.
    """


ComposeLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ComposeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

# Top-level keys whose value, when given, is a mapping of names to entries.
_MAPPINGS = ("services", "volumes", "networks", "secrets", "configs")


@dataclass(frozen=True)
class Parsed:
    """A compose file as data, with the YAML node tree to find lines in."""

    data: dict[str, Any]
    root: yaml.Node


def _error(message: str, line: int | None, **details: Any) -> InvalidCompose:
    where = f"line {line}: " if line else ""
    return InvalidCompose(
        f"compose file, {where}{message}",
        details={"field": "compose", "line": line, **details},
    )


def parse(text: str) -> Parsed:
    """The compose file as data; a YAML error names its line and column."""
    if len(text.encode()) > MAX_COMPOSE_BYTES:
        raise _error(f"larger than {MAX_COMPOSE_BYTES // 1024} KiB.", None)
    try:
        root = yaml.compose(text, Loader=ComposeLoader)
        _refuse_alias_bombs(root)
        data = yaml.load(text, Loader=ComposeLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise _error(f"{problem} (YAML syntax).", line, column=column) from exc
    except yaml.YAMLError as exc:
        raise _error(f"not valid YAML: {exc}", None) from exc
    except RecursionError as exc:
        # The YAML reader and the alias count both recurse per level.
        raise _error("nested too deeply; flatten the file.", None) from exc
    if not isinstance(data, dict) or root is None:
        raise _error("the top level must be a mapping (services: ...).", 1)
    _check_shape(data, root)
    return Parsed(data, root)


def _refuse_alias_bombs(root: yaml.Node | None) -> None:
    """Refuse a file whose aliases add more than ``MAX_EXPANDED_NODES`` nodes.

    Counted on the composed node tree, where an alias is the same node
    object as its anchor: each node's expanded size is computed once, so the
    count itself stays as cheap as the file is long.
    """
    sizes: dict[int, int] = {}
    pending: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in pending:
            raise _error("an alias refers to itself (recursive anchor).", None)
        pending.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        pending.discard(id(node))
        sizes[id(node)] = total
        return total

    # Only what aliases add counts: a long file without them is bounded by
    # MAX_COMPOSE_BYTES already.
    if root is not None and size(root) - len(sizes) > MAX_EXPANDED_NODES:
        raise _error(
            f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} "
            "nodes; write the repeated parts out or use fewer aliases.",
            None,
        )


def _check_shape(data: dict[str, Any], root: yaml.Node) -> None:
    """Refuse the shapes the policy's reading of the text could not follow.

    Compose checks the whole schema later; these are the keys read before
    it runs, so a list where a mapping belongs says so instead of failing.
    """
    for key in _MAPPINGS:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise _shape(root, [key], f"{key} must be a mapping of names to entries")
    for name, service in (data.get("services") or {}).items():
        if not isinstance(name, str):
            raise _shape(root, ["services"], "a service's name must be a string")
        if service is not None and not isinstance(service, dict):
            raise _shape(root, ["services", name], f"services.{name} must be a mapping")
    include = data.get("include")
    if include is not None and not isinstance(include, list):
        raise _shape(root, ["include"], "include must be a list of files")
    for entry in include or []:
        if not isinstance(entry, (str, dict)):
            raise _shape(
                root, ["include"], "an include entry must be a path or a mapping"
            )


def _shape(root: yaml.Node, path: list[str], message: str) -> InvalidCompose:
    shown = ".".join(path)
    return _error(f"{message}.", line_of(root, path), path=shown)


def line_of(root: yaml.Node, path: list[str]) -> int | None:
    """The line of the node at ``path`` (keys, or indexes in lists), 1-based."""
    node, line = root, None
    for part in path:
        found = _child(node, part)
        if found is None:
            break
        key_node, node = found
        line = (key_node or node).start_mark.line + 1
    return line


def _child(node: yaml.Node, part: str) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == part:
                return key, value
    if isinstance(node, yaml.SequenceNode) and part.isdigit():
        index = int(part)
        if index < len(node.value):
            return None, node.value[index]
    return None


def _explain(stderr: str, parsed: Parsed, folder: Path) -> InvalidCompose:
    text = stderr.strip().replace(str(folder) + "/", "").replace(str(folder), ".")
    message = text.splitlines()[-1] if text else "docker compose refused the file."
    schema = _SCHEMA.match(message)
    if schema:
        path = schema["path"].split(".")
        said = schema["message"]
        unknown = _UNKNOWN.search(said)
        if unknown:
            path = [*path, unknown["key"]]
            said = f"unknown key '{unknown['key']}' under {schema['path']}"
        line = line_of(parsed.root, path)
        return _error(f"{'.'.join(path)}: {said}.", line, path=".".join(path))
    found = _PATHLIKE.search(message)
    line = line_of(parsed.root, found["path"].split(".")) if found else None
    return _error(message.removeprefix("error: ").rstrip(".") + ".", line)


def normalised_config(
    environment: Environment,
    name: str,
    directory: str,
    compose_yaml: str,
    env_text: str,
) -> tuple[Parsed, dict[str, Any]]:
    """Parse, then ask ``docker compose config`` for the normalised model.

    The model has ``.env`` and ``${VAR:-default}`` interpolated, ``extends``
    resolved and relative paths made absolute against ``directory``: the
    security policy reads that, not the text a user typed.

    Known shortcoming: the files are validated from a scratch folder, so
    ``include`` and ``extends`` of other files resolve there and fail. The
    portal only holds compose.yaml and .env per project, so such files
    could not be provided anyway; one compose file per project is what is
    supported.
    """
    parsed = parse(compose_yaml)
    with staged(compose_yaml, env_text) as folder:
        files = cli.Files(name=name, directory=directory, folder=folder)
        argv = cli.command(files, ["config", "--format", "json"], profiles=["*"])
        outcome = cli.capture(environment, argv)
        if outcome.returncode != 0:
            raise _explain(outcome.stderr, parsed, folder)
    try:
        model = json.loads(outcome.stdout)
    except ValueError as exc:
        logger.warning("docker compose config printed no JSON: %s", outcome.stdout)
        raise _error("docker compose config gave no model back.", None) from exc
    return parsed, model
