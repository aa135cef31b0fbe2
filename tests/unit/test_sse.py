"""The SSE encoder on exact bytes."""

from boltdeck.streaming.sse import encode_chunk, encode_comment, encode_event, encode_event_chunk, encode_retry


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


def test_sse_encode_event_without_line_breaks_is_one_data_field():
    body = '{"text":"a\\nb","t":"é"}'  # JSON escapes its newlines: one line of data
    assert encode_event(3, "stdout", body) == b'id: 3\nevent: stdout\ndata: {"text":"a\\nb","t":"\xc3\xa9"}\n\n'


def test_sse_encode_chunk_is_gevents_chunked_framing():
    assert encode_chunk(b"id: 1\n\n") == b"7\r\nid: 1\n\n\r\n"
    assert encode_chunk(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"


def test_an_event_chunk_is_the_chunked_frame_built_in_one_step():
    for data in ('{"text": "é"}', "two\nlines", "cr\ronly", "", "x" * 70_000):
        assert encode_event_chunk(12, "stdout", data) == encode_chunk(encode_event(12, "stdout", data)), data[:20]
