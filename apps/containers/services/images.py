"""Images: listing, inspecting, tagging, removing and pruning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from apps.accounts import access
from apps.audit.models import Action
from apps.audit.services import audited
from dockpilot.errors import Conflict, NotFound

from ..engine import Engine, engine_for, filters_param
from ..models import Environment
from ..references import (
    looks_like_id,
    parse_reference,
    split_repo_digest,
    split_repo_tag,
)
from .containers import list_containers

logger = logging.getLogger("dockpilot.containers.services.images")

# What the engine puts in RepoTags and RepoDigests of an untagged image.
NONE_TAG = "<none>:<none>"
NONE_DIGEST = "<none>@<none>"


def _tags(repo_tags: list[str] | None) -> list[dict[str, str]]:
    # A digest pinned after the tag ("app:1@sha256:...") is not part of it.
    entries = [entry.split("@", 1)[0] for entry in repo_tags or [] if entry != NONE_TAG]
    pairs = [split_repo_tag(entry) for entry in entries]
    return [{"repository": repository, "tag": tag} for repository, tag in pairs]


def _digests(repo_digests: list[str] | None) -> list[dict[str, str]]:
    entries = [entry for entry in repo_digests or [] if entry != NONE_DIGEST]
    pairs = [split_repo_digest(entry) for entry in entries]
    return [
        {"repository": repository, "digest": digest} for repository, digest in pairs
    ]


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def shape_image(item: dict[str, Any]) -> dict[str, Any]:
    """What a person reads in an image list, from one engine list entry."""
    tags = _tags(item.get("RepoTags"))
    digests = _digests(item.get("RepoDigests"))
    return {
        "id": item["Id"],
        "short_id": short_id(item["Id"]),
        "tags": tags,
        "digests": digests,
        # The engine's own meaning (its dangling filter agrees): nothing names
        # the image, neither a tag nor a digest it was pulled by.
        "dangling": not tags and not digests,
        "size": item.get("Size", 0),
        "created": datetime.fromtimestamp(item.get("Created", 0), UTC).isoformat(),
        "labels": item.get("Labels") or {},
    }


def list_images(
    environment: Environment,
    *,
    dangling: bool | None = None,
    reference: str | None = None,
    labels: list[str] | None = None,
) -> list[dict[str, Any]]:
    """One engine call; newest first, as ``docker images`` shows them."""
    params = filters_param(dangling=dangling, reference=reference, label=labels)
    items = engine_for(environment).get_json("/images/json", params=params)
    shaped = [shape_image(item) for item in items]
    return sorted(shaped, key=lambda image: image["created"], reverse=True)


def checked_reference(ref: str) -> str:
    """``ref`` if it names an image (id or reference), else a 400.

    References come from the URL path, where slashes are allowed: checking
    them keeps a crafted value such as ``../containers/x`` from reaching
    another engine endpoint.
    """
    if looks_like_id(ref):
        return ref
    parse_reference(ref, field="image", default_tag=False)
    return ref


def inspect_image(environment: Environment, ref: str) -> dict[str, Any]:
    """The engine's inspect document of an image."""
    return dict(
        engine_for(environment).get_json("/images/{0}/json", checked_reference(ref))
    )


def _shape_layer(layer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": layer.get("Id", ""),
        "created": datetime.fromtimestamp(layer.get("Created", 0), UTC).isoformat(),
        "created_by": layer.get("CreatedBy", ""),
        "tags": layer.get("Tags") or [],
        "size": layer.get("Size", 0),
        "comment": layer.get("Comment", ""),
    }


def image_history(environment: Environment, ref: str) -> dict[str, Any]:
    """The layers of an image, newest first, each with the step that made it."""
    layers = engine_for(environment).get_json(
        "/images/{0}/history", checked_reference(ref)
    )
    return {"image": ref, "history": [_shape_layer(layer) for layer in layers]}


def _image_id(engine: Engine, ref: str) -> str:
    return str(engine.get_json("/images/{0}/json", checked_reference(ref))["Id"])


def require_free_tag(
    environment: Environment, reference: str, user: Any, image_id: str = ""
) -> None:
    """Refuse a non-admin moving a tag that names another image (409).

    Tags belong to no one: whoever runs ``x:1`` next, an admin who may add
    privileges and host paths included, would run what the last tagger put
    there. So only admins move a tag; others choose a new one.

    Known shortcoming: a pull still moves a local tag to the registry's image
    of that name, as ``docker pull`` does; whoever can push to that registry
    decides what the tag then names.
    """
    if access.is_admin(user):
        return
    try:
        current = _image_id(engine_for(environment), reference)
    except NotFound:
        return
    if current != image_id:
        raise Conflict(
            f"tag: '{reference}' already names image {short_id(current)}, which "
            "others may run; choose another tag. Only admins move a tag to "
            "another image.",
            code="tag_taken",
            details={"field": "tag", "reference": reference},
        )


def tag_image(
    environment: Environment,
    ref: str,
    *,
    repository: str,
    tag: str,
    request: HttpRequest,
) -> dict[str, Any]:
    """Give the image ``ref`` the new name ``repository:tag``."""
    engine = engine_for(environment)
    details = {"environment": environment.name, "repository": repository, "tag": tag}
    with audited(
        Action.IMAGE_TAG,
        request=request,
        resource_type="image",
        resource_name=ref,
        details=details,
    ) as target:
        target.resource_id = _image_id(engine, ref)
        require_free_tag(
            environment,
            f"{repository}:{tag}",
            getattr(request, "user", None),
            target.resource_id,
        )
        engine.post("/images/{0}/tag", ref, params={"repo": repository, "tag": tag})
    logger.info(
        "tagged image %s as %s:%s on %s",
        short_id(target.resource_id),
        repository,
        tag,
        environment.name,
    )
    return {
        "id": target.resource_id,
        "repository": repository,
        "tag": tag,
        "reference": f"{repository}:{tag}",
    }


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _users_of(environment: Environment, image_id: str) -> list[str]:
    # The ancestor filter also matches containers of images built on this
    # one; those do not hold this image, so keep the exact matches.
    containers = list_containers(environment, image=image_id)
    exact = [c["name"] for c in containers if c["image_id"] == image_id]
    return sorted(exact)


def _in_use(
    environment: Environment, ref: str, image_id: str, exc: Conflict
) -> Conflict:
    users = _users_of(environment, image_id)
    if users:
        noun = "container" if len(users) == 1 else "containers"
        return Conflict(
            f"image '{ref}' is used by {noun} {_quoted(users)}: remove the "
            f"{noun} first.",
            code="image_in_use",
            details={"containers": users},
        )
    reason = str(exc.detail)
    if "multiple repositories" in reason:
        return Conflict(
            f"image '{ref}' has several tags: delete one tag at a time, or delete "
            "with force=true to remove them all.",
            code="image_has_tags",
        )
    return exc


def _removal_result(entries: list[dict[str, str]]) -> dict[str, list[str]]:
    return {
        "untagged": [e["Untagged"] for e in entries if "Untagged" in e],
        "deleted": [e["Deleted"] for e in entries if "Deleted" in e],
    }


def remove_image(
    environment: Environment,
    ref: str,
    *,
    force: bool,
    noprune: bool,
    request: HttpRequest,
) -> dict[str, list[str]]:
    """Untag or delete an image; a 409 names the containers that use it."""
    engine = engine_for(environment)
    details = {"environment": environment.name, "force": force, "noprune": noprune}
    with audited(
        Action.IMAGE_DELETE,
        request=request,
        resource_type="image",
        resource_name=ref,
        details=details,
    ) as target:
        target.resource_id = _image_id(engine, ref)
        try:
            entries = engine.call("remove_image", ref, force=force, noprune=noprune)
        except Conflict as exc:
            raise _in_use(environment, ref, target.resource_id, exc) from exc
        result = _removal_result(entries or [])
        target.details.update(result)
    logger.info("removed image %s on %s: %s", ref, environment.name, result)
    return result


def _prune_filters(all_unused: bool, labels: list[str]) -> dict[str, Any]:
    # dangling=false makes the engine take every unused image, tagged or not.
    filters: dict[str, Any] = {"dangling": "false" if all_unused else "true"}
    if labels:
        filters["label"] = labels
    return filters


def prune_images(
    environment: Environment,
    *,
    all_unused: bool,
    labels: list[str],
    request: HttpRequest,
) -> dict[str, Any]:
    """Delete dangling images (every unused one with ``all_unused``)."""
    engine = engine_for(environment)
    details = {"environment": environment.name, "all": all_unused, "labels": labels}
    with audited(
        Action.IMAGE_PRUNE, request=request, resource_type="image", details=details
    ) as target:
        report = engine.call("prune_images", filters=_prune_filters(all_unused, labels))
        result: dict[str, Any] = _removal_result(report.get("ImagesDeleted") or [])
        result["space_reclaimed"] = report.get("SpaceReclaimed", 0)
        target.details.update(result)
    logger.info("pruned %d images on %s", len(result["deleted"]), environment.name)
    return result
