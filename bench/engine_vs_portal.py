"""Compare the portal's container endpoints with the raw Engine API, in one run.

Run by hand from the repository root:

    .venv/bin/python bench/engine_vs_portal.py [--json figures.json]

It starts a portal of its own (fresh data directory, Daphne on a free port of
127.0.0.1), builds a tiny image from scratch, creates 1,000 containers that
are never started plus one that has printed its log, then times the same
three reads against the engine's unix socket and against the portal, request
by request, over one keep-alive connection on each side. Everything it
created (containers and image by label, the portal by pid, the data
directory) is removed at the end, also on error. See bench/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import docker

REPO = Path(__file__).resolve().parent.parent
LABEL = "dockpilot.bench"
# Only the idle containers carry this one, so --only-ours lists exactly them.
LIST_LABEL = "dockpilot.bench.list"
PAGE_SIZE = 1000  # the portal's largest page
NAME_PREFIX = "dpb"
ADMIN = "admin"
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
DEFAULT_SOCKET = "unix:///var/run/docker.sock"

# The goals are ratios of medians, portal over raw engine, except RSS.
GOALS = {"list": 1.1, "inspect": 2.0, "logs": 1.5}
RSS_GOAL_MIB = 120.0

# Requests before the timed ones: the portal connects its engine client and
# negotiates the API version on its first Docker request.
WARMUP = 3
HTTP_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1


# --- HTTP over the engine socket and to the portal -------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix socket; counts connects to prove keep-alive held."""

    def __init__(self, socket_path: str, timeout: float = HTTP_TIMEOUT) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path
        self.connects = 0

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock
        self.connects += 1


class LoopbackHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 to 127.0.0.1 only; counts connects like the unix one."""

    def __init__(self, port: int, timeout: float = HTTP_TIMEOUT) -> None:
        super().__init__("127.0.0.1", port, timeout=timeout)
        self.connects = 0

    def connect(self) -> None:
        super().connect()
        self.connects += 1


Connection = UnixHTTPConnection | LoopbackHTTPConnection


@dataclass
class Side:
    """One end of the comparison: a persistent connection and its headers."""

    name: str
    conn: Connection
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def timed_get(self, path: str) -> tuple[float, bytes]:
        """Milliseconds from sending the request to the last byte of the body."""
        started = time.perf_counter()
        status, body = self.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise BenchError(f"{self.name} GET {path}: HTTP {status}: {body[:300]!r}")
        return elapsed, body


class BenchError(RuntimeError):
    pass


# --- The engine: image, containers, clean-up -------------------------------


def engine_socket_path() -> str:
    """The engine the portal will use too; only a local unix socket is timed."""
    host = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    parts = urlsplit(host)
    if parts.scheme != "unix" or not parts.path:
        raise BenchError(f"DOCKER_HOST={host!r}: this bench needs a unix:// socket.")
    return parts.path


def busybox_binary() -> Path:
    for path in BUSYBOX_PATHS:
        if Path(path).is_file():
            return Path(path)
    raise BenchError("busybox-static is missing: apt-get install busybox-static")


def build_image(client: docker.APIClient, tag: str, labels: dict[str, str]) -> None:
    """A real image from scratch around static busybox: no registry needed."""
    context = Path(tempfile.mkdtemp(prefix="dpb-image-"))
    try:
        (context / "rootfs" / "bin").mkdir(parents=True)
        shutil.copy(busybox_binary(), context / "rootfs" / "bin" / "busybox")
        (context / "Dockerfile").write_text(
            "FROM scratch\nCOPY rootfs/ /\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            'CMD ["/bin/sh"]\n'
        )
        stream = client.build(
            path=str(context),
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                raise BenchError(f"image build failed: {chunk['error']}")
    finally:
        shutil.rmtree(context, ignore_errors=True)


def create_idle_containers(
    client: docker.APIClient, image: str, run_id: str, count: int, workers: int
) -> list[str]:
    """Created, never started: a full list entry costs the engine no process."""
    labels = {LABEL: run_id, LIST_LABEL: run_id}

    def create(index: int) -> str:
        name = f"{NAME_PREFIX}-{run_id}-{index}"
        return str(client.create_container(image, name=name, labels=labels)["Id"])

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        return list(pool.map(create, range(count)))
    finally:
        # On an error or Ctrl-C, create no more: the clean-up lists by label
        # only after every create in flight has finished.
        pool.shutdown(wait=True, cancel_futures=True)


def start_log_container(
    client: docker.APIClient, image: str, run_id: str, lines: int
) -> str:
    # The sleep keeps it running for the inspect and logs reads, and ends it
    # within the hour even if the clean-up never ran.
    script = (
        f"i=0; while [ $i -lt {lines} ]; do echo line $i; i=$((i+1)); done; sleep 3600"
    )
    container = client.create_container(
        image,
        command=["sh", "-c", script],
        name=f"{NAME_PREFIX}-{run_id}-logs",
        labels={LABEL: run_id},
    )
    client.start(container["Id"])
    return str(container["Id"])


def wait_for_last_line(
    client: docker.APIClient, ident: str, lines: int, timeout: float
) -> None:
    last = f"line {lines - 1}".encode()
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.1) + 1):
        if last in client.logs(ident, stdout=True, stderr=True, tail=1):
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise BenchError(f"container {ident[:12]} did not print {lines} lines in time")


def remove_labelled(client: docker.APIClient, run_id: str, workers: int) -> int:
    """Remove this run's containers and image, found by their label only."""
    selector = {"label": f"{LABEL}={run_id}"}
    ids = [item["Id"] for item in client.containers(all=True, filters=selector)]

    def remove(ident: str) -> None:
        with suppress(docker.errors.NotFound):
            client.remove_container(ident, force=True, v=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(remove, ids))
    for image in client.images(filters=selector):
        client.remove_image(image["Id"], force=True)
    return len(ids)


# --- The portal: a Daphne of our own --------------------------------------


@dataclass
class Portal:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    password: str

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def portal_environment(
    data_dir: Path, socket_path: str, password_file: Path, full_path: bool = False
) -> dict[str, str]:
    # The embedded default (SQLite in a fresh data directory, no Redis):
    # DOCKPILOT_* settings of the shell running the bench do not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKPILOT_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "dockpilot.settings.dev",
            "DOCKPILOT_DATA_DIR": str(data_dir),
            "DOCKPILOT_DEBUG": "false",
            "DOCKPILOT_DOCKER_HOST": f"unix://{socket_path}",
            "DOCKPILOT_ADMIN_USERNAME": ADMIN,
            "DOCKPILOT_ADMIN_PASSWORD_FILE": str(password_file),
            # A long run must not see its access token expire half-way.
            "DOCKPILOT_ACCESS_TOKEN_MINUTES": "240",
            # As `make run` serves it (Procfile): fewer malloc arenas, and
            # large buffers in mappings of their own, keep RSS down.
            "MALLOC_ARENA_MAX": "2",
            "MALLOC_MMAP_THRESHOLD_": "131072",
            # --full-path: every request through Django, none answered
            # before it (apps/containers/quickreads.py).
            "DOCKPILOT_QUICK_READS": "false" if full_path else "true",
        }
    )
    return env


def _die_with_parent() -> None:
    # Linux only: if the bench is killed outright, the kernel stops the
    # portal too instead of leaving it listening.
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_portal(work_dir: Path, socket_path: str, full_path: bool = False) -> Portal:
    data_dir = work_dir / "data"
    password = secrets.token_urlsafe(18)
    password_file = work_dir / "admin_password"
    password_file.write_text(password)
    password_file.chmod(0o600)
    env = portal_environment(data_dir, socket_path, password_file, full_path)

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    port = free_port()
    log_path = work_dir / "daphne.log"
    daphne = Path(sys.executable).with_name("daphne")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(daphne),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "dockpilot.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    return Portal(process=process, port=port, log_path=log_path, password=password)


def probe_health(port: int) -> tuple[int, bytes]:
    conn = LoopbackHTTPConnection(port, timeout=5)
    try:
        return Side("health", conn).get("/health")
    finally:
        conn.close()


def wait_for_health(portal: Portal, timeout: float) -> dict[str, Any]:
    """Poll ``GET /health`` until it says ok; stop early if Daphne died."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    for _ in range(int(timeout / 0.2) + 1):
        if portal.process.poll() is not None:
            raise BenchError(f"daphne exited early:\n{portal.log_tail()}")
        try:
            status, body = probe_health(portal.port)
            if status == 200:
                return json.loads(body)
            last = f"HTTP {status}: {body[:300]!r}"
        except OSError as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    raise BenchError(f"/health never answered ok ({last}):\n{portal.log_tail()}")


def login(side: Side, password: str) -> str:
    payload = json.dumps({"username": ADMIN, "password": password})
    side.conn.request(
        "POST",
        "/api/v1/auth/login",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    response = side.conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise BenchError(f"login failed: HTTP {response.status}: {body[:300]!r}")
    return str(json.loads(body)["access"])


def stop_portal(portal: Portal) -> None:
    """Stop the Daphne this run started, by its pid."""
    if portal.process.poll() is not None:
        return
    portal.process.terminate()
    try:
        portal.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        portal.process.kill()
        portal.process.wait(timeout=15)


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of one process, in MiB."""
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = round(int(value.split()[0]) / 1024, 1)
    return figures


# --- Measuring -------------------------------------------------------------


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[-1]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(p90, 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
    }


@dataclass
class Case:
    """One request measured on both sides, with a check of what came back."""

    name: str
    raw_path: str
    portal_path: str
    repeat: int
    check: Callable[[bytes, bytes], dict[str, Any]]
    goal: float | None = None


def run_case(case: Case, raw: Side, portal: Side, budget: float) -> dict[str, Any]:
    """Interleave raw and portal requests so load from others hits both alike."""
    for _ in range(WARMUP):
        raw.timed_get(case.raw_path)
        portal.timed_get(case.portal_path)
    load_before = load_average()
    raw_ms: list[float] = []
    portal_ms: list[float] = []
    raw_body = portal_body = b""
    deadline = time.monotonic() + budget

    for index in range(case.repeat):
        if time.monotonic() > deadline:
            break
        # Alternate who goes first: the second request of a pair may find
        # the engine's caches warmer.
        order = (raw, portal) if index % 2 == 0 else (portal, raw)
        for side in order:
            elapsed, body = side.timed_get(
                case.raw_path if side is raw else case.portal_path
            )
            if side is raw:
                raw_ms.append(elapsed)
                raw_body = body
            else:
                portal_ms.append(elapsed)
                portal_body = body

    return shape_result(case, raw_ms, portal_ms, raw_body, portal_body, load_before)


def shape_result(
    case: Case,
    raw_ms: list[float],
    portal_ms: list[float],
    raw_body: bytes,
    portal_body: bytes,
    load_before: list[float],
) -> dict[str, Any]:
    raw_summary, portal_summary = summary(raw_ms), summary(portal_ms)
    ratio = portal_summary["median_ms"] / raw_summary["median_ms"]
    result: dict[str, Any] = {
        "raw": {**raw_summary, "path": case.raw_path, "bytes": len(raw_body)},
        "portal": {
            **portal_summary,
            "path": case.portal_path,
            "bytes": len(portal_body),
        },
        "ratio": round(ratio, 2),
        "added_ms": round(portal_summary["median_ms"] - raw_summary["median_ms"], 3),
        "complete": len(portal_ms) == case.repeat,
        "loadavg_before": load_before,
        "loadavg_after": load_average(),
        "seen": case.check(raw_body, portal_body),
    }
    if case.goal is not None:
        result["goal"] = case.goal
        result["verdict"] = "PASS" if ratio <= case.goal else "MISS"
    return result


def check_list(raw_body: bytes, portal_body: bytes) -> dict[str, Any]:
    page = json.loads(portal_body)
    return {
        "raw_items": len(json.loads(raw_body)),
        "portal_count": page["count"],
        "portal_items": len(page["results"]),
    }


def check_inspect(raw_body: bytes, portal_body: bytes) -> dict[str, Any]:
    raw_doc, portal_doc = json.loads(raw_body), json.loads(portal_body)
    if raw_doc["Id"] != portal_doc["Id"]:
        raise BenchError("inspect: the portal answered for another container")
    return {"id": raw_doc["Id"][:12], "running": raw_doc["State"]["Running"]}


def raw_log_lines(body: bytes) -> list[tuple[str, str]]:
    """(stream, text) of each line of the engine's multiplexed log answer."""
    lines, offset = [], 0
    while offset + 8 <= len(body):
        stream, length = (
            body[offset],
            int.from_bytes(body[offset + 4 : offset + 8], "big"),
        )
        text = body[offset + 8 : offset + 8 + length].decode("utf-8", "replace")
        lines.append(("stdout" if stream == 1 else "stderr", text.removesuffix("\n")))
        offset += 8 + length
    return lines


def check_logs(raw_body: bytes, portal_body: bytes) -> dict[str, Any]:
    lines = json.loads(portal_body)["lines"]
    # The log container is idle by now: both sides must show the same lines.
    if [(line["stream"], line["text"]) for line in lines] != raw_log_lines(raw_body):
        raise BenchError("logs: the portal's lines differ from the engine's")
    return {
        "raw_bytes": len(raw_body),
        "portal_lines": len(lines),
        "portal_last": lines[-1]["text"] if lines else None,
    }


def check_me(raw_body: bytes, portal_body: bytes) -> dict[str, Any]:
    return {"user": json.loads(portal_body)["username"]}


def list_paths(api: str, run_id: str, only_ours: bool) -> tuple[str, str]:
    """The engine's list and the portal's, both filtered to this run or neither."""
    raw = f"{api}/containers/json?all=1"
    portal = f"/api/v1/containers/?page_size={PAGE_SIZE}"
    if only_ours:
        selector = f"{LIST_LABEL}={run_id}"
        raw += "&filters=" + quote(json.dumps({"label": [selector]}))
        portal += "&label=" + quote(selector)
    return raw, portal


def cases(api: str, log_id: str, run_id: str, args: argparse.Namespace) -> list[Case]:
    tail = args.tail
    raw_list, portal_list = list_paths(api, run_id, args.only_ours)
    return [
        Case(
            "list",
            raw_list,
            portal_list,
            args.list_n,
            check_list,
            GOALS["list"],
        ),
        Case(
            "inspect",
            f"{api}/containers/{log_id}/json",
            f"/api/v1/containers/{log_id}/",
            args.inspect_n,
            check_inspect,
            GOALS["inspect"],
        ),
        Case(
            "logs",
            f"{api}/containers/{log_id}/logs?stdout=1&stderr=1&tail={tail}",
            f"/api/v1/containers/{log_id}/logs/?tail={tail}",
            args.logs_n,
            check_logs,
            GOALS["logs"],
        ),
        # No goal: the portal's floor (Daphne, Django, JWT and the user
        # query) against the engine's cheapest answer.
        Case("floor", f"{api}/_ping", "/api/v1/auth/me", args.inspect_n, check_me),
    ]


def measure(
    portal: Portal, raw: Side, portal_side: Side, todo: list[Case], budget: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    results: dict[str, Any] = {}
    memory: dict[str, Any] = {"after_login": memory_mib(portal.process.pid)}
    for case in todo:
        results[case.name] = run_case(case, raw, portal_side, budget)
        if case.name == "list":
            memory["after_list"] = memory_mib(portal.process.pid)
    memory["at_end"] = memory_mib(portal.process.pid)
    rss = memory["after_list"]["VmRSS"]
    memory["goal_mib"] = RSS_GOAL_MIB
    memory["verdict"] = "PASS" if rss < RSS_GOAL_MIB else "MISS"
    return results, memory


# --- Reporting -------------------------------------------------------------


def print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    print(
        f"\nrun {report['run_id']} of {machine['source']}: "
        f"engine {machine['engine_version']} "
        f"(API {machine['api_version']}), {machine['cpus']} CPUs, "
        f"load {machine['loadavg_start']} -> {machine['loadavg_end']}, "
        f"containers not ours on the engine: {machine['other_containers_start']} "
        f"at start, {machine['other_containers_end']} at end; quick reads "
        f"{'on' if machine['quick_reads'] else 'off (--full-path)'}"
    )
    head = (
        f"{'request':<9} {'n':>4} {'raw med':>9} {'raw p90':>9} "
        f"{'portal med':>11} {'portal p90':>11} {'added':>9} {'ratio':>6} "
        f"{'goal':>6}  verdict"
    )
    print(head)
    print("-" * len(head))
    for name, result in report["results"].items():
        raw, portal = result["raw"], result["portal"]
        goal = f"{result['goal']:.1f}x" if "goal" in result else "-"
        verdict = result.get("verdict", "(info)")
        if not result["complete"]:
            verdict += " (time budget hit)"
        print(
            f"{name:<9} {portal['n']:>4} {raw['median_ms']:>7.2f}ms "
            f"{raw['p90_ms']:>7.2f}ms {portal['median_ms']:>9.2f}ms "
            f"{portal['p90_ms']:>9.2f}ms {result['added_ms']:>7.2f}ms "
            f"{result['ratio']:>5.2f}x {goal:>6}  "
            f"{verdict}"
        )
    seen = report["results"]["list"]["seen"]
    print(
        f"list: the engine returned {seen['raw_items']} containers; the portal a "
        f"page of {seen['portal_items']} out of {seen['portal_count']}"
    )
    memory = report["memory"]
    print(
        f"daphne RSS after list: {memory['after_list']['VmRSS']:.1f} MiB "
        f"(goal < {RSS_GOAL_MIB:.0f} MiB: {memory['verdict']}); peak "
        f"{memory['at_end']['VmHWM']:.1f} MiB; connections opened raw "
        f"{report['connections']['raw']}, portal {report['connections']['portal']}"
    )


def write_json(path: str, report: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {path}")


# --- The run ---------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--containers",
        type=int,
        default=1000,
        help="created (not started) containers to list",
    )
    parser.add_argument("--log-lines", type=int, default=10_000)
    parser.add_argument("--tail", type=int, default=100)
    parser.add_argument("--list-n", type=int, default=30)
    parser.add_argument("--inspect-n", type=int, default=300)
    parser.add_argument("--logs-n", type=int, default=300)
    parser.add_argument(
        "--workers",
        type=int,
        default=8,
        help="threads creating and removing containers",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=300.0,
        help="time budget of each measured request kind",
    )
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="list only this run's idle containers on both sides (a label "
        "filter), so other people's containers do not change the list",
    )
    parser.add_argument(
        "--full-path",
        action="store_true",
        help="run the portal with DOCKPILOT_QUICK_READS=false: every request "
        "through Django, as before the quick reads",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.containers <= PAGE_SIZE:
        parser.error(f"--containers: 1 to {PAGE_SIZE} (the portal's largest page)")
    if min(args.list_n, args.inspect_n, args.logs_n) < 2:
        parser.error("each N must be at least 2 for a p90")
    return args


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    # SIGTERM would skip the finally blocks; turn it into SystemExit so the
    # portal, the containers and the image are still removed.
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def source_revision() -> str:
    """The commit measured, marked "+changes" when the tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+changes" if changed else head


def count_others(client: docker.APIClient, run_id: str) -> int:
    """Containers of other people on this engine: counted, never touched."""
    items = client.containers(all=True)
    return sum(1 for item in items if (item.get("Labels") or {}).get(LABEL) != run_id)


def prepare_engine(
    client: docker.APIClient, run_id: str, args: argparse.Namespace
) -> str:
    image = f"dockpilot-bench/busybox:{run_id}"
    started = time.monotonic()
    build_image(client, image, {LABEL: run_id})
    create_idle_containers(client, image, run_id, args.containers, args.workers)
    log_id = start_log_container(client, image, run_id, args.log_lines)
    wait_for_last_line(client, log_id, args.log_lines, timeout=60)
    print(
        f"engine ready in {time.monotonic() - started:.1f}s: {args.containers} "
        f"containers and one with {args.log_lines} log lines",
        flush=True,
    )
    return log_id


def bench(
    client: docker.APIClient,
    socket_path: str,
    work_dir: Path,
    run_id: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "loadavg_start": load_average(),
        "other_containers_start": count_others(client, run_id),
        "quick_reads": not args.full_path,
    }
    log_id = prepare_engine(client, run_id, args)
    portal = start_portal(work_dir, socket_path, args.full_path)
    try:
        health = wait_for_health(portal, timeout=60)
        raw = Side("raw", UnixHTTPConnection(socket_path))
        portal_side = Side("portal", LoopbackHTTPConnection(portal.port))
        token = login(portal_side, portal.password)
        portal_side.headers = {"Authorization": f"Bearer {token}"}
        api = f"/v{client.api_version}"
        todo = cases(api, log_id, run_id, args)
        results, memory = measure(portal, raw, portal_side, todo, args.max_seconds)
    finally:
        stop_portal(portal)
    machine.update(
        {
            "loadavg_end": load_average(),
            "other_containers_end": count_others(client, run_id),
            "engine_version": health["checks"]["engine"].get("version"),
            "api_version": client.api_version,
            "python": sys.version.split()[0],
            "source": source_revision(),
        }
    )
    return {
        "run_id": run_id,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {k: v for k, v in vars(args).items() if k != "json"},
        "machine": machine,
        "results": results,
        "memory": memory,
        "connections": {"raw": raw.conn.connects, "portal": portal_side.conn.connects},
    }


def clean_up(
    client: docker.APIClient, run_id: str, workers: int, work_dir: Path
) -> None:
    try:
        removed = remove_labelled(client, run_id, workers)
        print(f"removed {removed} containers and the image of run {run_id}")
    except Exception as exc:  # report, and let the first error be the one seen
        print(
            f"clean-up failed ({exc}); remove by hand what carries the label "
            f"{LABEL}={run_id}",
            file=sys.stderr,
        )
    finally:
        client.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    try:
        socket_path = engine_socket_path()
        busybox_binary()
        client = docker.APIClient(
            base_url=f"unix://{socket_path}", version="auto", timeout=HTTP_TIMEOUT
        )
    except (BenchError, docker.errors.DockerException) as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return 2

    work_dir = Path(tempfile.mkdtemp(prefix="dockpilot-bench-"))
    with sigterm_as_exit():
        try:
            report = bench(client, socket_path, work_dir, run_id, args)
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 1
        finally:
            clean_up(client, run_id, args.workers, work_dir)
    print_table(report)
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
