import pytest

pytestmark = pytest.mark.django_db


def test_operator_creates_starts_reads_logs_and_removes_a_container(
    operator_client, test_image, unique_name
):
    created = operator_client.post(
        "/api/v1/containers/",
        {"image": test_image, "name": unique_name, "labels": {"dockpilot.test": "x"},
         "command": ["sh", "-c", "echo hello; echo oops >&2; sleep 300"],
         "start": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    logs = operator_client.get(f"/api/v1/containers/{unique_name}/logs/")
    assert logs.status_code == 200
    streams = {(line["stream"], line["text"]) for line in logs.json()["lines"]}
    assert ("stdout", "hello") in streams or logs.json()["lines"] == []
    stopped = operator_client.post(f"/api/v1/containers/{unique_name}/stop/",
                                   {"timeout": 0}, format="json")
    assert stopped.status_code == 200, stopped.json()
    removed = operator_client.delete(f"/api/v1/containers/{unique_name}/")
    assert removed.status_code == 204
