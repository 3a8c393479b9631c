"""The image endpoints against the real engine.

Images are made only by tagging the suite's busybox image or by building
tiny images from scratch; prunes are always limited to a label that only
the test's own images carry, so no other image on the engine is touched.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from apps.audit.models import AuditLog, Outcome
from apps.containers.services.images import shape_image
from tests.conftest import LABELS, TEST_LABEL

pytestmark = pytest.mark.django_db

CASE_LABEL = f"{TEST_LABEL}.case"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def case() -> str:
    """A label value that only this test's images carry."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def build_image(docker_client, tmp_path, case):
    """Build a tiny image from scratch, tagged or left untagged (dangling)."""

    def _build(tag: str | None = None) -> str:
        context = tmp_path / uuid.uuid4().hex[:8]
        context.mkdir()
        # Unique content, so the builder's cache never hands back an image
        # that another test already made.
        (context / "marker").write_text(uuid.uuid4().hex)
        (context / "Dockerfile").write_text(
            'FROM scratch\nCOPY marker /marker\nCMD ["/marker"]\n'
        )
        image, _ = docker_client.images.build(
            path=str(context),
            tag=tag,
            labels={**LABELS, CASE_LABEL: case},
            rm=True,
            forcerm=True,
        )
        return image.id

    return _build


@pytest.fixture
def alias(docker_client, test_image, unique_name) -> str:
    """A second name of the test image, in a registry with a port."""
    repository = f"127.0.0.1:5000/{unique_name}/app"
    docker_client.api.tag(test_image, repository, "1")
    return f"{repository}:1"


def last_audit(action: str) -> AuditLog:
    return AuditLog.objects.filter(action=action).order_by("-id").first()


def test_viewer_lists_images_with_registry_port_tags_split_correctly(
    viewer_client, alias, unique_name
):
    response = viewer_client.get("/api/v1/images/", {"reference": alias})

    assert response.status_code == 200, response.json()
    [image] = response.json()["results"]
    repository = f"127.0.0.1:5000/{unique_name}/app"
    assert {"repository": repository, "tag": "1"} in image["tags"]
    assert image["short_id"] == image["id"].removeprefix("sha256:")[:12]
    assert image["dangling"] is False
    assert image["labels"][TEST_LABEL] == LABELS[TEST_LABEL]
    assert image["size"] > 0
    assert datetime.fromisoformat(image["created"]).tzinfo is not None


def test_the_image_list_filters_by_label_and_dangling(viewer_client, build_image, case):
    image_id = build_image()
    label = f"{CASE_LABEL}={case}"

    dangling = viewer_client.get(
        "/api/v1/images/", {"label": label, "dangling": "true"}
    )
    tagged = viewer_client.get("/api/v1/images/", {"label": label, "dangling": "false"})

    assert dangling.status_code == 200
    [image] = dangling.json()["results"]
    assert image["id"] == image_id
    assert image["dangling"] is True and image["tags"] == []
    assert tagged.json()["results"] == []


def test_the_image_list_is_paginated(viewer_client, test_image, alias):
    response = viewer_client.get("/api/v1/images/", {"page_size": 1})

    body = response.json()
    assert response.status_code == 200
    assert len(body["results"]) == 1
    assert body["count"] >= 1 and "next" in body


def test_digest_references_and_untagged_markers_are_read_for_people():
    pinned = shape_image(
        {
            "Id": "sha256:" + "1" * 64,
            "Created": 0,
            "RepoTags": ["127.0.0.1:5000/ns/app:1@" + DIGEST, "<none>:<none>"],
            "RepoDigests": ["127.0.0.1:5000/ns/app@" + DIGEST],
        }
    )
    untagged = shape_image(
        {
            "Id": "sha256:" + "2" * 64,
            "Created": 0,
            "RepoTags": ["<none>:<none>"],
            "RepoDigests": ["<none>@<none>"],
        }
    )

    assert pinned["tags"] == [{"repository": "127.0.0.1:5000/ns/app", "tag": "1"}]
    assert pinned["digests"] == [
        {"repository": "127.0.0.1:5000/ns/app", "digest": DIGEST}
    ]
    assert pinned["dangling"] is False
    assert untagged["tags"] == [] and untagged["digests"] == []
    assert untagged["dangling"] is True


def test_a_port_without_a_tag_stays_part_of_the_repository():
    image = shape_image(
        {
            "Id": "sha256:" + "3" * 64,
            "RepoTags": ["localhost:5000/app"],
            "RepoDigests": None,
        }
    )

    assert image["tags"] == [{"repository": "localhost:5000/app", "tag": ""}]


def test_viewer_inspects_an_image_and_reads_its_history(viewer_client, alias):
    inspected = viewer_client.get(f"/api/v1/images/{alias}/")
    history = viewer_client.get(f"/api/v1/images/{alias}/history/")

    assert inspected.status_code == 200
    assert alias in inspected.json()["RepoTags"]
    assert history.status_code == 200
    steps = [layer["created_by"] for layer in history.json()["history"]]
    assert any("busybox --install" in step for step in steps)


def test_the_trailing_slash_is_optional_for_image_references(viewer_client, alias):
    assert viewer_client.get(f"/api/v1/images/{alias}").status_code == 200
    assert viewer_client.get(f"/api/v1/images/{alias}/history").status_code == 200


def test_inspecting_a_missing_image_answers_404(viewer_client, unique_name):
    response = viewer_client.get(f"/api/v1/images/{unique_name}/missing:1/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("ref", ["Upper/Case:1", "../containers/json", "a//b"])
def test_a_malformed_image_reference_answers_400_naming_it(viewer_client, ref):
    response = viewer_client.get(f"/api/v1/images/{ref}/")

    assert response.status_code == 400
    assert response.json()["message"].startswith("image:")


@pytest.mark.parametrize("persona", ["operator_client", "admin_client"])
def test_operators_and_admins_tag_an_image_and_it_is_audited(
    request, persona, docker_client, test_image, unique_name
):
    client = request.getfixturevalue(persona)
    repository = f"127.0.0.1:5000/{unique_name}/tagged"

    response = client.post(
        f"/api/v1/images/{test_image}/tag/",
        {"repository": repository, "tag": "2"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    image_id = docker_client.images.get(test_image).id
    assert response.json() == {
        "id": image_id,
        "repository": repository,
        "tag": "2",
        "reference": f"{repository}:2",
    }
    assert docker_client.images.get(f"{repository}:2").id == image_id
    row = last_audit("image.tag")
    assert row.outcome == Outcome.SUCCESS and row.resource_type == "image"
    assert row.resource_id == image_id and row.details["repository"] == repository


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repository": "Upper/Case"}, "repository"),
        ({"repository": "dpt-x/app:1"}, "repository"),
        ({"repository": "dpt-x/app", "tag": ".hidden"}, "tag"),
        ({"repository": "dpt-x/app", "tga": "1"}, "tga"),
        ({}, "repository"),
    ],
)
def test_tagging_refuses_bad_input_naming_the_field(
    operator_client, test_image, body, field
):
    response = operator_client.post(
        f"/api/v1/images/{test_image}/tag/", body, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}:")
    assert last_audit("image.tag").outcome == Outcome.FAILURE


def test_tagging_a_missing_image_answers_404_and_is_audited(
    operator_client, unique_name
):
    response = operator_client.post(
        f"/api/v1/images/{unique_name}:1/tag/",
        {"repository": "dpt-x/app"},
        format="json",
    )

    assert response.status_code == 404
    row = last_audit("image.tag")
    assert row.outcome == Outcome.FAILURE and row.resource_name == f"{unique_name}:1"


def test_an_operator_cannot_move_a_tag_that_names_another_image(
    operator_client, admin_client, build_image, docker_client, unique_name
):
    # An admin's tool, and an operator's image that would take its name.
    tool = f"{unique_name}/admin-tool"
    tool_id = build_image(f"{tool}:1")
    other_id = build_image()

    moved = operator_client.post(
        f"/api/v1/images/{other_id}/tag/",
        {"repository": tool, "tag": "1"},
        format="json",
    )

    assert moved.status_code == 409, moved.json()
    assert moved.json()["code"] == "tag_taken"
    assert moved.json()["message"].startswith(f"tag: '{tool}:1' already names")
    assert docker_client.images.get(f"{tool}:1").id == tool_id
    assert last_audit("image.tag").outcome == Outcome.FAILURE
    # Naming the image it already names, or a new name, is fine; an admin
    # may move the tag.
    same = {"repository": tool, "tag": "1"}
    url = f"/api/v1/images/{tool_id}/tag/"
    assert operator_client.post(url, same, format="json").status_code == 201
    fresh = {"repository": tool, "tag": "2"}
    other_url = f"/api/v1/images/{other_id}/tag/"
    assert operator_client.post(other_url, fresh, format="json").status_code == 201
    assert admin_client.post(other_url, same, format="json").status_code == 201
    assert docker_client.images.get(f"{tool}:1").id == other_id


def test_viewer_cannot_tag_an_image(viewer_client, test_image, unique_name):
    response = viewer_client.post(
        f"/api/v1/images/{test_image}/tag/", {"repository": unique_name}, format="json"
    )

    assert response.status_code == 403
    row = last_audit("image.tag")
    assert row.outcome == Outcome.FAILURE and row.actor_username == "vera-viewer"


def test_anonymous_cannot_list_images(anon_client):
    assert anon_client.get("/api/v1/images/").status_code == 401


def test_operator_deletes_a_tag_and_the_image_stays(
    operator_client, docker_client, test_image, alias
):
    response = operator_client.delete(f"/api/v1/images/{alias}/")

    assert response.status_code == 200, response.json()
    assert response.json() == {"untagged": [alias], "deleted": []}
    assert alias not in docker_client.images.get(test_image).tags
    row = last_audit("image.delete")
    assert row.outcome == Outcome.SUCCESS and row.resource_name == alias


def test_deleting_an_image_used_by_a_container_names_the_container(
    operator_client, docker_client, build_image, unique_name
):
    tag = f"{unique_name}/in-use:1"
    build_image(tag)
    docker_client.api.create_container(tag, name=unique_name, labels=LABELS)

    response = operator_client.delete(f"/api/v1/images/{tag}/")

    assert response.status_code == 409
    body = response.json()
    assert body["message"] == (
        f"image '{tag}' is used by container '{unique_name}': "
        "remove the container first."
    )
    assert body["details"]["containers"] == [unique_name]
    row = last_audit("image.delete")
    assert row.outcome == Outcome.FAILURE and unique_name in row.reason
    assert docker_client.images.get(tag)


def test_deleting_a_missing_image_answers_404(operator_client, unique_name):
    response = operator_client.delete(f"/api/v1/images/{unique_name}:1/")

    assert response.status_code == 404
    assert last_audit("image.delete").outcome == Outcome.FAILURE


def test_delete_refuses_an_unknown_query_value(operator_client, alias):
    response = operator_client.delete(f"/api/v1/images/{alias}/?force=perhaps")

    assert response.status_code == 400
    assert response.json()["message"].startswith("force:")


def test_viewer_cannot_delete_an_image(viewer_client, docker_client, alias):
    response = viewer_client.delete(f"/api/v1/images/{alias}/")

    assert response.status_code == 403
    assert docker_client.images.get(alias)
    row = last_audit("image.delete")
    assert row.outcome == Outcome.FAILURE and row.resource_id == alias


def test_prune_takes_dangling_images_only_unless_asked_for_all(
    operator_client, docker_client, build_image, case, unique_name
):
    dangling_id = build_image()
    tagged_id = build_image(f"{unique_name}/unused:1")
    labels = [f"{CASE_LABEL}={case}"]

    first = operator_client.post(
        "/api/v1/images/prune/", {"labels": labels}, format="json"
    )

    assert first.status_code == 200, first.json()
    # The builder's intermediate images go with the image they made.
    assert dangling_id in first.json()["deleted"]
    assert tagged_id not in first.json()["deleted"]
    assert isinstance(first.json()["space_reclaimed"], int)
    assert docker_client.images.get(tagged_id)

    second = operator_client.post(
        "/api/v1/images/prune", {"all": True, "labels": labels}, format="json"
    )

    assert second.status_code == 200, second.json()
    assert tagged_id in second.json()["deleted"]
    assert second.json()["untagged"] == [f"{unique_name}/unused:1"]
    row = last_audit("image.prune")
    assert row.outcome == Outcome.SUCCESS and tagged_id in row.details["deleted"]


def test_prune_refuses_unknown_fields(operator_client):
    response = operator_client.post(
        "/api/v1/images/prune/", {"everything": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("everything:")


def test_viewer_cannot_prune_images(viewer_client):
    response = viewer_client.post("/api/v1/images/prune/", {}, format="json")

    assert response.status_code == 403
    assert last_audit("image.prune").outcome == Outcome.FAILURE


def test_deleting_by_id_an_image_with_several_tags_says_how_to_proceed(
    operator_client, docker_client, build_image, unique_name
):
    image_id = build_image(f"{unique_name}/one:1")
    docker_client.api.tag(image_id, f"{unique_name}/two", "1")

    response = operator_client.delete(f"/api/v1/images/{image_id}/")

    assert response.status_code == 409
    assert "has several tags" in response.json()["message"]
    assert "force=true" in response.json()["message"]
