"""The SSE encoder on exact bytes."""

from boltdeck.streaming.sse import encode_comment, encode_event, encode_retry


def test_sse_encode_event_single_line():
    assert encode_event(7, "stdout", '{"a":1}') == b'id: 7\nevent: stdout\ndata: {"a":1}\n\n'


def test_sse_encode_event_multi_line_data_and_carriage_return():
    assert encode_event(1, "log", "one\ntwo\r\nthree\rfour") == (
        b"id: 1\nevent: log\ndata: one\ndata: two\ndata: three\ndata: four\n\n"
    )


def test_sse_encode_event_unicode():
    assert encode_event(2, "stdout", '{"t":"héllo ✓"}') == 'id: 2\nevent: stdout\ndata: {"t":"héllo ✓"}\n\n'.encode()


def test_sse_encode_comment_and_retry():
    assert encode_comment() == b": ping\n\n"
    assert encode_retry(3000) == b"retry: 3000\n\n"
