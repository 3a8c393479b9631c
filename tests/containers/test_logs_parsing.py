"""Log parsing on hand-made engine output: frames, TTY bytes, timestamps."""

import struct

from apps.containers.logs import demultiplex, parse_logs

STAMP = "2026-12-04T14:51:18.498064712Z"


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def out(payload: bytes) -> bytes:
    return frame(1, payload)


def err(payload: bytes) -> bytes:
    return frame(2, payload)


def pairs(data: bytes, timestamps: bool = False) -> list[tuple[str, str]]:
    return [(line.stream, line.text) for line in parse_logs(data, timestamps)]


def test_frames_are_split_into_their_streams():
    data = out(b"one\n") + err(b"two\n") + frame(0, b"in\n")

    assert demultiplex(data) == [
        ("stdout", b"one\n"),
        ("stderr", b"two\n"),
        ("stdin", b"in\n"),
    ]


def test_stdout_and_stderr_lines_are_kept_apart_in_order():
    data = out(b"hello\n") + err(b"oops\n") + out(b"again\nand more\n")

    assert pairs(data) == [
        ("stdout", "hello"),
        ("stderr", "oops"),
        ("stdout", "again"),
        ("stdout", "and more"),
    ]


def test_empty_output_has_no_lines():
    assert parse_logs(b"") == []
    assert pairs(out(b"")) == []


def test_invalid_utf8_is_replaced_not_fatal():
    data = out(b"bad \xff byte\n") + err(b"\xc3(\n")

    assert pairs(data) == [("stdout", "bad \ufffd byte"), ("stderr", "\ufffd(")]


def test_a_character_split_between_two_frames_is_joined():
    encoded = "café ☕\n".encode()
    cut = encoded.index("☕".encode()) + 1

    data = out(encoded[:cut]) + out(encoded[cut:])

    assert pairs(data) == [("stdout", "café ☕")]


def test_a_split_character_is_joined_across_an_interleaved_stream():
    encoded = "naïve\n".encode()

    data = out(encoded[:3]) + err(b"between\n") + out(encoded[3:])

    assert pairs(data) == [("stdout", "naïve"), ("stderr", "between")]


def test_a_long_line_cut_by_the_engine_is_one_line():
    # The engine cuts lines at its 16 KiB buffer, anywhere in a character.
    line = ("a" * 16383 + "é end").encode()

    data = out(line[:16384]) + out(line[16384:] + b"\n") + out(b"next\n")

    assert pairs(data) == [("stdout", "a" * 16383 + "é end"), ("stdout", "next")]


def test_the_newline_less_end_of_a_cut_line_does_not_swallow_the_next_line():
    # The "local" log driver sends the last piece of a cut line without its
    # newline; the following line must stay a line of its own.
    line = ("a" * 16383 + "é end").encode()

    data = out(line[:16384]) + out(line[16384:]) + out(b"next\n")

    assert pairs(data) == [("stdout", "a" * 16383 + "é end"), ("stdout", "next")]


def test_output_that_ended_without_a_newline_stays_its_own_line():
    data = out(b"prompt> ") + out(b"after restart\n")

    assert pairs(data) == [("stdout", "prompt> "), ("stdout", "after restart")]


def test_timestamps_are_taken_off_the_text():
    data = out(f"{STAMP} hello world\n".encode()) + err(f"{STAMP} oops\n".encode())

    lines = parse_logs(data, timestamps=True)

    assert [line.as_dict() for line in lines] == [
        {"stream": "stdout", "text": "hello world", "timestamp": STAMP},
        {"stream": "stderr", "text": "oops", "timestamp": STAMP},
    ]


def test_a_cut_line_keeps_the_first_timestamp_only():
    line = ("a" * 16383 + "é").encode()
    later = "2026-12-04T14:51:18.600000000Z"

    data = out(STAMP.encode() + b" " + line[:16384]) + out(
        later.encode() + b" " + line[16384:] + b"\n"
    )

    assert [line.as_dict() for line in parse_logs(data, timestamps=True)] == [
        {"stream": "stdout", "text": "a" * 16383 + "é", "timestamp": STAMP}
    ]


def test_without_timestamps_a_leading_date_is_left_in_the_text():
    data = out(f"{STAMP} hello\n".encode())

    assert pairs(data) == [("stdout", f"{STAMP} hello")]
    assert "timestamp" not in parse_logs(data)[0].as_dict()


def test_only_newlines_end_a_line():
    data = out("page\x0cbreak and\u2028separator\r\n".encode())

    assert pairs(data) == [("stdout", "page\x0cbreak and\u2028separator")]


def test_tty_output_is_raw_bytes_read_as_stdout():
    data = b"x\r\ny\r\n\xff\r\n"

    assert demultiplex(data) is None
    assert pairs(data) == [("stdout", "x"), ("stdout", "y"), ("stdout", "\ufffd")]


def test_tty_output_with_timestamps():
    data = f"{STAMP} x\r\n{STAMP} y\r\n".encode()

    lines = parse_logs(data, timestamps=True)

    assert [(line.timestamp, line.text) for line in lines] == [
        (STAMP, "x"),
        (STAMP, "y"),
    ]


def test_a_truncated_frame_is_not_taken_for_frames():
    assert demultiplex(out(b"hello\n")[:-2]) is None
    assert demultiplex(b"\x01\x00\x00") is None
    assert demultiplex(b"\x05\x00\x00\x00\x00\x00\x00\x01x") is None


def _general(data: bytes, timestamps: bool) -> list:
    # The general path, with the one-line-frames shortcut turned off.
    from apps.containers import logs

    frames = demultiplex(data)
    assert frames is not None
    saved = logs._one_line_frames
    logs._one_line_frames = lambda frames, timestamps: None
    try:
        return parse_logs(data, timestamps)
    finally:
        logs._one_line_frames = saved


def test_one_line_frames_read_as_the_general_path_reads_them():
    samples = [
        out(b"plain\n") + err(b"to stderr\n") + out(b"windows\r\n"),
        out(b"caf\xc3\xa9 \xff bad\n") + out(b"\n") + err(b"\tindented \x0c ff\n"),
        out(f"{STAMP} stamped\n".encode()) + err(f"{STAMP} \n".encode()),
        out(b"two\nlines in one frame\n") + out(b"then one\n"),
        out(b"no newline") + out(b"next\n"),
    ]

    for data in samples:
        for timestamps in (False, True):
            assert parse_logs(data, timestamps) == _general(data, timestamps)
