"""Turning the engine's log bytes into lines a person can read.

Without a TTY the engine multiplexes stdout and stderr into frames with an
8-byte header (stream, 0, 0, 0, big-endian length). With a TTY it sends the
raw bytes, all of it "stdout".
"""

from __future__ import annotations

import codecs
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


# The engine's log copier cuts a line longer than its 16 KiB buffer into
# several messages, each sent as a frame of its own and, with timestamps,
# each with its own stamp.
_CUT_SIZE = 16 * 1024


def _ends_inside_a_character(frame: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    decoder.decode(frame[-3:])
    return bool(decoder.getstate()[0])


def _is_cut(frame: bytes) -> bool:
    # An unterminated frame continues in the next one of its stream only when
    # the engine cut it: a full buffer, or an end inside a UTF-8 character.
    # Any other is a line of its own: output that ended without a newline, or
    # the last piece of a cut line, which the "local" driver sends without
    # its newline.
    if frame.endswith(b"\n"):
        return False
    return len(frame) >= _CUT_SIZE or _ends_inside_a_character(frame)


def _looks_like_stamp(text: str) -> bool:
    return len(text) >= 20 and text[4] == "-" and text[10] == "T"


def _drop_stamp(frame: bytes) -> bytes:
    stamp, sep, rest = frame.partition(b" ")
    if sep and _looks_like_stamp(stamp.decode("ascii", "replace")):
        return rest
    return frame


def _join_cut_lines(
    frames: list[tuple[str, bytes]], timestamps: bool
) -> list[tuple[str, bytes]]:
    # Join before decoding, so a UTF-8 character split between frames
    # survives; a continuation keeps the first piece's timestamp only.
    runs: list[tuple[str, bytearray]] = []
    cut: dict[str, bytearray] = {}
    for stream, frame in frames:
        if stream in cut:
            buffer = cut.pop(stream)
            buffer.extend(_drop_stamp(frame) if timestamps else frame)
        else:
            buffer = bytearray(frame)
            runs.append((stream, buffer))
        if _is_cut(frame):
            cut[stream] = buffer
    return [(stream, bytes(buffer)) for stream, buffer in runs]


def _split_timestamp(line: str) -> tuple[str, str]:
    stamp, sep, rest = line.partition(" ")
    if sep and _looks_like_stamp(stamp):
        return stamp, rest
    return "", line


def _split_lines(text: str) -> list[str]:
    # Only newlines end a line: str.splitlines() would also cut at form
    # feeds, U+2028 and other characters that programs print inside a line.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def parse_logs(data: bytes, timestamps: bool = False) -> list[LogLine]:
    """Lines of a non-streamed log read, stdout and stderr kept apart."""
    frames = demultiplex(data)
    runs = [("stdout", data)] if frames is None else _join_cut_lines(frames, timestamps)

    lines: list[LogLine] = []
    for stream, chunk in runs:
        text = chunk.decode("utf-8", errors="replace")
        for raw in _split_lines(text):
            stamp, rest = _split_timestamp(raw) if timestamps else ("", raw)
            lines.append(LogLine(stream, rest, stamp))
    return lines
