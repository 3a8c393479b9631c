"""Stats arithmetic on hand-made engine documents of cgroup v1 and v2 hosts."""

import copy

import pytest

from apps.containers.stats import block_io, cpu_percent, memory, network, summarize

MIB = 1024 * 1024

# Shaped like the engine's answer on a cgroup v1 host (trimmed).
V1 = {
    "read": "2026-12-04T14:51:20.1Z",
    "preread": "2026-12-04T14:51:19.1Z",
    "pids_stats": {"current": 3},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 8, "minor": 0, "op": "Read", "value": 4 * MIB},
            {"major": 8, "minor": 0, "op": "Write", "value": 1 * MIB},
            {"major": 8, "minor": 0, "op": "Sync", "value": 5 * MIB},
            {"major": 8, "minor": 0, "op": "Async", "value": 0},
            {"major": 8, "minor": 0, "op": "Total", "value": 5 * MIB},
            {"major": 8, "minor": 16, "op": "Read", "value": 1 * MIB},
        ],
        "io_serviced_recursive": [],
    },
    "cpu_stats": {
        "cpu_usage": {
            "total_usage": 1_400_000_000,
            "percpu_usage": [700_000_000, 700_000_000],
        },
        "system_cpu_usage": 12_000_000_000,
        "online_cpus": 2,
    },
    "precpu_stats": {
        "cpu_usage": {
            "total_usage": 1_200_000_000,
            "percpu_usage": [600_000_000, 600_000_000],
        },
        "system_cpu_usage": 10_000_000_000,
        "online_cpus": 2,
    },
    "memory_stats": {
        "usage": 100 * MIB,
        "max_usage": 120 * MIB,
        "limit": 512 * MIB,
        "stats": {
            "cache": 36 * MIB,
            "rss": 60 * MIB,
            "inactive_file": 20 * MIB,
            "total_cache": 36 * MIB,
            "total_inactive_file": 20 * MIB,
        },
    },
    "networks": {
        "eth0": {"rx_bytes": 1000, "tx_bytes": 200, "rx_packets": 10},
        "eth1": {"rx_bytes": 24, "tx_bytes": 6, "rx_packets": 1},
    },
}

# Shaped like the engine's answer on a cgroup v2 host (trimmed): no
# percpu_usage, no "cache", lowercase block I/O ops, null lists.
V2 = {
    "read": "2026-12-04T14:51:20.1Z",
    "pids_stats": {"current": 7, "limit": 4915},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 259, "minor": 0, "op": "read", "value": 8192},
            {"major": 259, "minor": 0, "op": "write", "value": 4096},
        ],
        "io_serviced_recursive": None,
    },
    "cpu_stats": {
        "cpu_usage": {
            "total_usage": 90_000_000,
            "usage_in_kernelmode": 30_000_000,
            "usage_in_usermode": 60_000_000,
        },
        "system_cpu_usage": 5_004_000_000_000,
        "online_cpus": 4,
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 50_000_000},
        "system_cpu_usage": 5_000_000_000_000,
        "online_cpus": 4,
    },
    "memory_stats": {
        "usage": 64 * MIB,
        "limit": 256 * MIB,
        "stats": {
            "anon": 30 * MIB,
            "file": 34 * MIB,
            "active_file": 2 * MIB,
            "inactive_file": 32 * MIB,
        },
    },
    "networks": {"eth0": {"rx_bytes": 5, "tx_bytes": 7}},
}


def test_cpu_percent_on_cgroup_v1():
    # 0.2 s of CPU over 2 s of system time on 2 CPUs.
    assert cpu_percent(V1) == 20.0


def test_cpu_percent_on_cgroup_v2_uses_online_cpus():
    # 0.04 s of CPU over 4 s of system time on 4 CPUs.
    assert cpu_percent(V2) == 4.0


def test_cpu_percent_counts_percpu_entries_when_online_cpus_is_missing():
    sample = copy.deepcopy(V1)
    del sample["cpu_stats"]["online_cpus"]

    assert cpu_percent(sample) == 20.0


def test_cpu_percent_is_unknown_without_a_previous_reading():
    # A one-shot sample carries an empty precpu_stats.
    sample = copy.deepcopy(V1)
    sample["precpu_stats"] = {}

    assert cpu_percent(sample) is None


def test_cpu_percent_is_zero_when_no_system_time_passed():
    sample = copy.deepcopy(V2)
    sample["precpu_stats"]["system_cpu_usage"] = sample["cpu_stats"]["system_cpu_usage"]

    assert cpu_percent(sample) == 0.0


def test_cpu_percent_is_zero_when_the_counter_went_backwards():
    # A restarted container resets its CPU counter between the two readings.
    sample = copy.deepcopy(V2)
    sample["precpu_stats"]["cpu_usage"]["total_usage"] = 10**12

    assert cpu_percent(sample) == 0.0


def test_cpu_percent_can_pass_100_on_several_cpus():
    sample = copy.deepcopy(V2)
    sample["cpu_stats"]["cpu_usage"]["total_usage"] = 50_000_000 + 3_000_000_000

    assert cpu_percent(sample) == 300.0


def test_memory_on_cgroup_v1_leaves_out_the_page_cache():
    assert memory(V1) == {
        "used": 64 * MIB,
        "limit": 512 * MIB,
        "percent": 12.5,
        "cgroup": 1,
    }


def test_memory_on_cgroup_v2_leaves_out_inactive_file():
    assert memory(V2) == {
        "used": 32 * MIB,
        "limit": 256 * MIB,
        "percent": 12.5,
        "cgroup": 2,
    }


def test_memory_never_goes_below_zero():
    sample = copy.deepcopy(V1)
    sample["memory_stats"]["stats"]["cache"] = 200 * MIB

    assert memory(sample)["used"] == 0
    assert memory(sample)["percent"] == 0.0


def test_memory_without_usage_or_limit_is_unknown_not_an_error():
    assert memory({"memory_stats": {}}) == {
        "used": None,
        "limit": None,
        "percent": None,
        "cgroup": 1,
    }
    no_limit = {"memory_stats": {"usage": MIB, "limit": 0, "stats": {}}}
    assert memory(no_limit)["percent"] is None
    assert memory({})["used"] is None


def test_network_sums_every_interface():
    assert network(V1) == {"rx_bytes": 1024, "tx_bytes": 206}
    assert network(V2) == {"rx_bytes": 5, "tx_bytes": 7}


@pytest.mark.parametrize("networks", [None, {}])
def test_network_is_absent_without_a_network_of_its_own(networks):
    # Network mode none or host: the engine sends no "networks" key.
    sample = copy.deepcopy(V1)
    if networks is None:
        del sample["networks"]
    else:
        sample["networks"] = networks

    assert network(sample) is None


def test_block_io_on_cgroup_v1_adds_reads_and_writes_of_every_device():
    # "Total", "Sync" and "Async" repeat the same bytes and are not added.
    assert block_io(V1) == {"read_bytes": 5 * MIB, "write_bytes": 1 * MIB}


def test_block_io_on_cgroup_v2_reads_lowercase_ops():
    assert block_io(V2) == {"read_bytes": 8192, "write_bytes": 4096}


@pytest.mark.parametrize(
    "blkio",
    [{}, {"io_service_bytes_recursive": None}, {"io_service_bytes_recursive": []}],
)
def test_block_io_without_entries_is_zero(blkio):
    assert block_io({"blkio_stats": blkio}) == {"read_bytes": 0, "write_bytes": 0}


def test_summary_of_a_v1_sample():
    assert summarize(V1) == {
        "read_at": "2026-12-04T14:51:20.1Z",
        "cpu_percent": 20.0,
        "memory": {"used": 64 * MIB, "limit": 512 * MIB, "percent": 12.5, "cgroup": 1},
        "network": {"rx_bytes": 1024, "tx_bytes": 206},
        "block_io": {"read_bytes": 5 * MIB, "write_bytes": 1 * MIB},
        "pids": 3,
    }


def test_summary_of_a_v2_sample_with_no_network():
    sample = copy.deepcopy(V2)
    del sample["networks"]

    summary = summarize(sample)

    assert summary["cpu_percent"] == 4.0
    assert summary["memory"]["cgroup"] == 2
    assert summary["network"] is None
    assert summary["pids"] == 7


def test_summary_of_an_empty_document_has_every_key():
    summary = summarize({})

    assert summary == {
        "read_at": None,
        "cpu_percent": None,
        "memory": {"used": None, "limit": None, "percent": None, "cgroup": 1},
        "network": None,
        "block_io": {"read_bytes": 0, "write_bytes": 0},
        "pids": None,
    }
