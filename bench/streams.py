"""Live streams of the portal against the raw engine, in one run.

Run by hand from the repository root:

    .venv/bin/python bench/streams.py [--lines N] [--clients N] [--json FILE]

It starts a portal of its own (fresh data directory, Daphne on a free port
of 127.0.0.1), builds a tiny image from scratch and measures:

1. log throughput: a container prints ``--lines`` lines of 80 bytes and
   exits; its whole log is read raw from the engine socket (demultiplexed)
   and then through ``/ws/containers/<id>/logs/?tail=<all>`` by one
   WebSocket client. Goal: the portal at least half the raw rate.
2. many watchers: ``--clients`` clients watch one container's logs and as
   many its stats, while it prints 200 lines a second, for ``--seconds``.
   Reported: the engine connections the web process holds (one per kind is
   the goal), its RSS and CPU, and what each client received.

Everything it created (containers and image by label, the portal by pid,
the data directory) is removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import docker
import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from engine_vs_portal import (  # noqa: E402
    LABEL,
    LoopbackHTTPConnection,
    Side,
    build_image,
    engine_socket_path,
    login,
    memory_mib,
    remove_labelled,
    start_portal,
    stop_portal,
    wait_for_health,
)

from tests.streams.wsclient import Closed, WebSocket  # noqa: E402

LINE = "x" * 70  # with the counter, about 80 bytes a line


def print_log(client: docker.APIClient, image: str, run_id: str, lines: int) -> str:
    # busybox sh is slow at loops: seq and sed print a million lines fast.
    script = f"seq 1 {lines} | sed 's/$/-{LINE}/'"
    created = client.create_container(
        image,
        command=["sh", "-c", script],
        name=f"dpb-{run_id}-flood",
        labels={LABEL: run_id},
    )
    client.start(created["Id"])
    client.wait(created["Id"], timeout=600)
    return str(created["Id"])


def raw_read(socket_path: str, api: str, ident: str) -> tuple[float, int, int]:
    """Seconds, bytes and lines of a demultiplexed raw read of the whole log."""
    import http.client
    import socket

    class Unix(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(socket_path)

    conn = Unix("localhost", timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/{api}/containers/{ident}/logs?stdout=1&stderr=1")
    response = conn.getresponse()
    pending, lines, size = bytearray(), 0, 0
    header = struct.Struct(">xxxxL")
    while chunk := response.read1(1 << 16):
        pending += chunk
        offset, end = 0, len(pending)
        # Each frame is one log line: count frames and payload bytes.
        while end - offset >= 8:
            (length,) = header.unpack_from(pending, offset)
            if end - offset - 8 < length:
                break
            lines += 1
            size += length
            offset += 8 + length
        del pending[:offset]
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, size, lines


async def ws_read_all(port: int, token: str, ident: str, lines: int) -> dict[str, Any]:
    socket = await WebSocket.connect(
        "127.0.0.1",
        port,
        f"/ws/containers/{ident}/logs/?tail={lines}",
        origin=f"http://127.0.0.1:{port}",
        subprotocols=["dockpilot", f"bearer.{token}"],
    )
    started = time.perf_counter()
    got, size, messages, missed = 0, 0, 0, 0
    while got < lines:
        message = orjson.loads(await socket.receive(timeout=60))
        await socket.ack()
        messages += 1
        missed += message.get("missed", 0)
        for line in message.get("lines", ()):
            got += 1
            size += len(line["text"]) + 1
    elapsed = time.perf_counter() - started
    await socket.close()
    return {
        "seconds": round(elapsed, 3),
        "lines": got,
        "bytes": size,
        "messages": messages,
        "missed": missed,
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_connections(pid: int, socket_path: str) -> int:
    """Open connections from process ``pid`` to the engine's unix socket."""
    out = subprocess.run(
        ["ss", "-xpn"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    rows = [line.split() for line in out.splitlines()[1:]]
    ours = {row[5] for row in rows if len(row) > 8 and f"pid={pid}," in row[8]}
    return sum(
        1 for row in rows if len(row) > 7 and row[4] == socket_path and row[7] in ours
    )


async def watch(port: int, token: str, path: str, seconds: float) -> dict[str, int]:
    socket = await WebSocket.connect(
        "127.0.0.1",
        port,
        path,
        origin=f"http://127.0.0.1:{port}",
        subprotocols=["dockpilot", f"bearer.{token}"],
    )
    counts = {"messages": 0, "lines": 0}
    deadline = time.monotonic() + seconds
    with suppress(TimeoutError, Closed):
        while (left := deadline - time.monotonic()) > 0:
            message = json.loads(await socket.receive(timeout=left))
            await socket.ack()
            counts["messages"] += 1
            counts["lines"] += len(message.get("lines", ()))
    await socket.close()
    return counts


async def many_watchers(
    port: int, token: str, ident: str, clients: int, seconds: float, pid: int
) -> dict[str, Any]:
    before_cpu = cpu_seconds(pid)
    paths = [f"/ws/containers/{ident}/logs/?tail=0"] * clients + [
        f"/ws/containers/{ident}/stats/"
    ] * clients
    tasks = [asyncio.create_task(watch(port, token, p, seconds)) for p in paths]
    await asyncio.sleep(seconds / 2)
    connections = engine_connections(pid, engine_socket_path())
    memory = memory_mib(pid)
    results = await asyncio.gather(*tasks)
    cpu = cpu_seconds(pid) - before_cpu
    logs, stats = results[:clients], results[clients:]
    return {
        "clients": {"logs": clients, "stats": clients},
        "engine_connections_of_web_process": connections,
        "rss_mib": memory,
        "cpu_percent_of_one_core": round(cpu / seconds * 100, 1),
        "log_lines_per_client": sorted({r["lines"] for r in logs}),
        "stats_messages_per_client": sorted({r["messages"] for r in stats}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:8]
    client = docker.APIClient(
        base_url=f"unix://{engine_socket_path()}", version="auto", timeout=600
    )
    image = f"dockpilot-bench/busybox:{run_id}"
    work = Path(tempfile.mkdtemp(prefix="dpb-streams-"))
    portal = None
    report: dict[str, Any] = {"lines": args.lines}
    try:
        build_image(client, image, {LABEL: run_id})
        flood = print_log(client, image, run_id, args.lines)
        portal = start_portal(work, engine_socket_path())
        wait_for_health(portal, 60)
        side = Side("portal", LoopbackHTTPConnection(portal.port))
        token = login(side, portal.password)

        seconds, size, lines = raw_read(
            engine_socket_path(), f"v{client.api_version}", flood
        )
        report["raw"] = {
            "seconds": round(seconds, 3),
            "lines": lines,
            "mb_per_s": round(size / seconds / 1e6, 1),
        }
        portal_read = asyncio.run(ws_read_all(portal.port, token, flood, lines))
        portal_read["mb_per_s"] = round(
            portal_read["bytes"] / portal_read["seconds"] / 1e6, 1
        )
        report["websocket"] = portal_read
        report["ratio_websocket_to_raw"] = round(
            portal_read["mb_per_s"] / report["raw"]["mb_per_s"], 2
        )
        report["rss_after_logs_mib"] = memory_mib(portal.process.pid)

        ticker = client.create_container(
            image,
            command=["sh", "-c", "while :; do seq 1 20; sleep 0.1; done"],
            name=f"dpb-{run_id}-ticker",
            labels={LABEL: run_id},
        )
        client.start(ticker["Id"])
        report["watchers"] = asyncio.run(
            many_watchers(
                portal.port,
                token,
                ticker["Id"],
                args.clients,
                args.seconds,
                portal.process.pid,
            )
        )
    finally:
        if portal is not None:
            stop_portal(portal)
        remove_labelled(client, run_id, 4)
        subprocess.run(["rm", "-rf", str(work)], check=False)
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
