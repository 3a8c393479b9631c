"""A tunnel's secrets (API token, SSH private key) never come back out:
not in API answers, audit rows, job output, the process's output, or logs."""

from __future__ import annotations

import json
import logging

import pytest

from apps.audit.models import AuditLog
from apps.jobs.models import Job, JobOutput, Status
from apps.tunnels import supervision
from apps.tunnels.models import TunnelConfig
from tests.jobs.services import free_port

from .conftest import CF_TOKEN
from .test_cloudflare_tunnels import named_body, run_job
from .test_ssh_tunnel import ssh_body

pytestmark = pytest.mark.django_db(transaction=True)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def portal_logs():
    handler = Collect()
    logger = logging.getLogger("dockpilot")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def _pieces(secret: str) -> list[str]:
    # The whole secret and every line of a key long enough to mean something.
    return [secret, *(line for line in secret.splitlines() if len(line) > 20)]


def test_secrets_never_appear_in_answers_audit_jobs_output_or_logs(
    operator_client, sshd, cloudflare, http_container, portal_logs, cleanup_tunnels
):
    answers = []
    ssh = operator_client.post(
        "/api/v1/tunnels/",
        ssh_body(sshd, http_container, free_port(), name="secret-ssh"),
        format="json",
    )
    named = operator_client.post(
        "/api/v1/tunnels/", named_body(http_container), format="json"
    )
    answers += [ssh, named]
    ids = [ssh.json()["id"], named.json()["id"]]
    for tunnel_id in ids:
        assert run_job(
            operator_client, f"/api/v1/tunnels/{tunnel_id}/start/"
        ).status == (Status.SUCCEEDED)
        answers += [
            operator_client.get(f"/api/v1/tunnels/{tunnel_id}/"),
            operator_client.get(f"/api/v1/tunnels/{tunnel_id}/status/"),
            operator_client.get(f"/api/v1/tunnels/{tunnel_id}/logs/"),
        ]
        run_job(operator_client, f"/api/v1/tunnels/{tunnel_id}/stop/")
    answers.append(
        operator_client.patch(
            f"/api/v1/tunnels/{ids[1]}/", {"token": CF_TOKEN}, format="json"
        )
    )
    answers.append(operator_client.get("/api/v1/tunnels/"))
    answers += [
        operator_client.get(f"/api/v1/jobs/{j.pk}/output/") for j in Job.objects.all()
    ]

    assert ssh.json()["secrets_set"] is True
    everything = "\n".join(
        [r.content.decode() for r in answers]
        + [json.dumps([a.details, a.reason]) for a in AuditLog.objects.all()]
        + [c.text for c in JobOutput.objects.all()]
        + [json.dumps([j.error, j.result, j.params]) for j in Job.objects.all()]
        + portal_logs
    )
    assert "tunnel.update" in {a.action for a in AuditLog.objects.all()}
    for secret in (sshd.client_key, CF_TOKEN):
        for piece in _pieces(secret):
            assert piece.strip() not in everything
            # Sealed at rest, too.
            for tunnel in TunnelConfig.objects.all():
                assert piece.strip() not in tunnel.secrets_sealed
    # The key file ssh read lives only while the tunnel runs.
    assert not (supervision.folder(ids[0]) / "id_key").exists()
