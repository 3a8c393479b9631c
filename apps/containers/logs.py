"""Turning the engine's log bytes into lines a person can read.

Without a TTY the engine multiplexes stdout and stderr into frames with an
8-byte header (stream, 0, 0, 0, big-endian length). With a TTY it sends the
raw bytes, all of it "stdout".
"""

from __future__ import annotations

import codecs
import struct
from typing import NamedTuple

_HEADER = struct.Struct(">BxxxL")
_STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}


# A tuple rather than a frozen dataclass: a followed log makes one per line,
# and a tuple is made several times faster.
class LogLine(NamedTuple):
    stream: str
    text: str
    timestamp: str = ""
    # Bytes left out of a line longer than MAX_LINE (followed logs only).
    cut: int = 0

    def as_dict(self) -> dict[str, str | int]:
        line: dict[str, str | int] = {"stream": self.stream, "text": self.text}
        if self.timestamp:
            line["timestamp"] = self.timestamp
        if self.cut:
            line["cut"] = self.cut
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


def take_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """The whole frames at the start of a followed log's ``buffer`` (stream
    number and payload), taken out of it; a frame not complete yet stays."""
    frames: list[tuple[int, bytes]] = []
    pos, size = 0, len(buffer)
    while size - pos >= _HEADER.size:
        kind, length = _HEADER.unpack_from(buffer, pos)
        start = pos + _HEADER.size
        if size - start < length:
            break
        pos = start + length
        frames.append((kind, bytes(buffer[start:pos])))
    del buffer[:pos]
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
    if frames is not None:
        whole = _one_line_frames(frames, timestamps)
        if whole is not None:
            return whole
    runs = [("stdout", data)] if frames is None else _join_cut_lines(frames, timestamps)

    lines: list[LogLine] = []
    for stream, chunk in runs:
        text = chunk.decode("utf-8", errors="replace")
        for raw in _split_lines(text):
            stamp, rest = _split_timestamp(raw) if timestamps else ("", raw)
            lines.append(LogLine(stream, rest, stamp))
    return lines


def _one_line_frames(
    frames: list[tuple[str, bytes]], timestamps: bool
) -> list[LogLine] | None:
    # The usual log: each frame one whole line. Nothing to join, and each
    # line is decoded alone; None as soon as a frame is anything else.
    lines: list[LogLine] = []
    for stream, frame in frames:
        if not frame.endswith(b"\n") or frame.count(b"\n") != 1:
            return None
        text = frame[:-1].decode("utf-8", errors="replace").removesuffix("\r")
        if timestamps:
            stamp, text = _split_timestamp(text)
            lines.append(LogLine(stream, text, stamp))
        else:
            lines.append(LogLine(stream, text))
    return lines


# A followed log delivers lines whole up to this size, longer ones cut here
# with the count of bytes left out: one runaway line cannot fill a watcher's
# buffer or the memory of the web process.
MAX_LINE = 64 * 1024


def _cut_line(stream: str, raw: str, timestamps: bool, dropped: int) -> LogLine:
    stamp, text = _split_timestamp(raw) if timestamps else ("", raw)
    cut = dropped
    if len(text) > MAX_LINE:
        cut += len(text[MAX_LINE:].encode("utf-8", "replace"))
        text = text[:MAX_LINE]
    return LogLine(stream, text, stamp, cut)


class LogFollower:
    """Lines of a followed log, fed its body in pieces as they arrive.

    A piece may end anywhere: inside a frame header, a line or a UTF-8
    character. Bytes are kept until their line is complete and only then
    decoded, so nothing is split or replaced by mistake.
    """

    def __init__(self, tty: bool, timestamps: bool) -> None:
        self.tty = tty
        self.timestamps = timestamps
        self._buffer = bytearray()
        self._cut: dict[str, bytearray] = {}
        self._dropped: dict[str, int] = {}

    def feed(self, data: bytes) -> list[LogLine]:
        """The lines completed by ``data``."""
        self._buffer += data
        return self._raw_lines() if self.tty else self._framed_lines()

    def flush(self) -> list[LogLine]:
        """What is left when the stream ends: unterminated lines."""
        lines: list[LogLine] = []
        if self.tty and self._buffer:
            self._cut["stdout"] = self._buffer
        self._buffer = bytearray()
        for stream in list(self._cut):
            self._emit(stream, bytes(self._cut.pop(stream)), lines)
        return lines

    def _framed_lines(self) -> list[LogLine]:
        lines = list[LogLine]()
        for kind, frame in take_frames(self._buffer):
            stream = _STREAMS.get(kind, "stdout")
            if not self._whole_line(stream, frame, lines):
                self._take(stream, frame, lines)
        return lines

    def _whole_line(self, stream: str, frame: bytes, lines: list[LogLine]) -> bool:
        """Append the frame's line when it is the usual case: one whole line,
        nothing pending for its stream. Anything else is ``_take``'s."""
        end = len(frame) - 1
        if (
            end < 0
            or end > MAX_LINE
            or frame.find(b"\n") != end
            or stream in self._cut
            or stream in self._dropped
        ):
            return False
        text = frame[:end].decode("utf-8", errors="replace").removesuffix("\r")
        stamp = ""
        if self.timestamps:
            stamp, text = _split_timestamp(text)
        lines.append(LogLine(stream, text, stamp))
        return True

    def _take(self, stream: str, frame: bytes, lines: list[LogLine]) -> None:
        pending = self._cut.get(stream)
        if pending is not None:
            self._extend(
                stream, pending, _drop_stamp(frame) if self.timestamps else frame
            )
        if _is_cut(frame):
            if pending is None:
                self._cut[stream] = bytearray(frame)
            return
        if pending is not None:
            frame = bytes(self._cut.pop(stream))
        self._emit(stream, frame, lines)

    def _extend(self, stream: str, pending: bytearray, piece: bytes) -> None:
        if len(pending) <= MAX_LINE:
            pending += piece
        else:
            # The newline that ends the line is not text left out.
            left_out = len(piece) - piece.endswith(b"\n")
            self._dropped[stream] = self._dropped.get(stream, 0) + left_out

    def _raw_lines(self) -> list[LogLine]:
        # A TTY's output has no frames: a line ends at a newline, wherever
        # the HTTP chunk ended.
        buffer, lines = self._buffer, list[LogLine]()
        end = buffer.rfind(b"\n")
        if end >= 0:
            self._emit("stdout", bytes(buffer[: end + 1]), lines)
            del buffer[: end + 1]
        if len(buffer) > MAX_LINE:
            self._emit("stdout", bytes(buffer), lines)
            buffer.clear()
        return lines

    def _emit(self, stream: str, chunk: bytes, lines: list[LogLine]) -> None:
        dropped = self._dropped.pop(stream, 0)
        for raw in _split_lines(chunk.decode("utf-8", errors="replace")):
            lines.append(_cut_line(stream, raw, self.timestamps, dropped))
            dropped = 0
