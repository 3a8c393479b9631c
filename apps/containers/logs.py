"""Turning the engine's log bytes into lines a person can read.

Without a TTY the engine multiplexes stdout and stderr into frames with an
8-byte header (stream, 0, 0, 0, big-endian length). With a TTY it sends the
raw bytes, all of it "stdout".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HEADER = struct.Struct(">BxxxL")
_STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


@dataclass(frozen=True)
class LogLine:
    stream: str
    text: str
    timestamp: str = ""

    def as_dict(self) -> dict[str, str]:
        line = {"stream": self.stream, "text": self.text}
        if self.timestamp:
            line["timestamp"] = self.timestamp
        return line


def demultiplex(data: bytes) -> list[tuple[str, bytes]] | None:
    """Split multiplexed frames; None when ``data`` is not framed (a TTY)."""
    frames: list[tuple[str, bytes]] = []
    offset, size = 0, len(data)
    while offset < size:
        if size - offset < _HEADER.size:
            return None
        kind, length = _HEADER.unpack_from(data, offset)
        if kind not in _STREAMS or data[offset + 1 : offset + 4] != b"\0\0\0":
            return None
        start = offset + _HEADER.size
        if start + length > size:
            return None
        frames.append((_STREAMS[kind], data[start : start + length]))
        offset = start + length
    return frames


def _join_by_stream(frames: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    # The engine may cut one line over several frames; rejoin runs of the same
    # stream before splitting lines, and decode only whole lines so a UTF-8
    # character split between frames survives.
    runs: list[tuple[str, bytearray]] = []
    for stream, chunk in frames:
        if runs and runs[-1][0] == stream and not runs[-1][1].endswith(b"\n"):
            runs[-1][1].extend(chunk)
        else:
            runs.append((stream, bytearray(chunk)))
    return [(stream, bytes(buf)) for stream, buf in runs]


def _split_timestamp(line: str) -> tuple[str, str]:
    stamp, sep, rest = line.partition(" ")
    if sep and len(stamp) >= 20 and stamp[4] == "-" and stamp[10] == "T":
        return stamp, rest
    return "", line


def parse_logs(data: bytes, timestamps: bool = False) -> list[LogLine]:
    """Lines of a non-streamed log read, stdout and stderr kept apart."""
    frames = demultiplex(data)
    runs = _join_by_stream(frames) if frames is not None else [("stdout", data)]

    lines: list[LogLine] = []
    for stream, chunk in runs:
        text = chunk.decode("utf-8", errors="replace")
        for raw in text.splitlines():
            stamp, rest = _split_timestamp(raw) if timestamps else ("", raw)
            lines.append(LogLine(stream, rest, stamp))
    return lines
