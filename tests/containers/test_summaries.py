"""The container list is decoded for the fields it shows, and shaped the same
as from the engine's whole document."""

from __future__ import annotations

import orjson

from apps.containers.services.containers import shape_summary
from apps.containers.summaries import decode_container_list

ENTRY = {
    "Id": "f" * 64,
    "Names": ["/web"],
    "Image": "dpt/busybox:1",
    "ImageID": "sha256:" + "e" * 64,
    "Command": "httpd -f",
    "Created": 1764806400,
    "Ports": [
        {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}
    ],
    "Labels": {"com.docker.compose.project": "shop", "team": "blue"},
    "State": "running",
    "Status": "Up 2 minutes (healthy)",
    "HostConfig": {"NetworkMode": "default"},
    "NetworkSettings": {
        "Networks": {"shop_default": {"IPAddress": "172.18.0.2"}, "bridge": {}}
    },
    "Mounts": [{"Type": "volume", "Name": "data", "Destination": "/data"}],
}
SPARSE = {"Id": "0" * 64, "Names": None, "Ports": None, "Labels": None}


def test_a_decoded_list_shapes_as_the_whole_document_does():
    body = orjson.dumps([ENTRY, SPARSE])

    decoded = [shape_summary(item) for item in decode_container_list(body)]

    assert decoded == [shape_summary(item) for item in orjson.loads(body)]
    assert decoded[0]["networks"] == ["bridge", "shop_default"]
    assert decoded[0]["health"] == "healthy"
    assert decoded[0]["created"] == "2025-12-04T00:00:00+00:00"


def test_only_the_listed_fields_are_kept():
    (entry,) = decode_container_list(orjson.dumps([ENTRY]))

    assert "HostConfig" not in entry and "Mounts" not in entry


def test_an_entry_of_another_shape_is_decoded_whole_rather_than_refused():
    odd = {**ENTRY, "Created": "yesterday", "Names": ["/odd"]}

    (entry,) = decode_container_list(orjson.dumps([odd]))

    assert entry["Created"] == "yesterday" and entry["Names"] == ["/odd"]


def test_the_collector_is_paused_only_while_a_list_is_shaped():
    import gc

    from apps.containers.summaries import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_entries_shaped_once_for_the_same_bytes_show_every_change():
    from apps.containers.services.containers import shared_summaries_of, summaries_of

    first = orjson.dumps([ENTRY, SPARSE])
    stopped = orjson.dumps([{**ENTRY, "State": "exited", "Status": "Exited (0)"}])

    assert shared_summaries_of(first) == summaries_of(first)
    assert shared_summaries_of(first) == summaries_of(first)  # from kept shapes
    assert shared_summaries_of(stopped)[0]["state"] == "exited"
    assert shared_summaries_of(b"[]") == []


def test_an_entry_of_another_shape_is_read_as_the_whole_document():
    from apps.containers.services.containers import shared_summaries_of, summaries_of

    odd = orjson.dumps([{**ENTRY, "Command": 5}])

    assert shared_summaries_of(odd) == summaries_of(odd)
