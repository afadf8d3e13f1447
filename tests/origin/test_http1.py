"""The fast path's request reader: the plain requests it reads, and everything it leaves alone."""

from __future__ import annotations

import pytest

from origin.http1 import HEAD_MAX, INCOMPLETE, NOT_PLAIN, PlainRequest, fields, read_request, response_head

HOST = b"Host: origin\r\n"


def test_a_plain_get_is_read_with_its_size() -> None:
    raw = b"GET /media/t/v1/master.m3u8?CMCD=sid%3D%22a%22 HTTP/1.1\r\n" + HOST + b"\r\nGET /next"
    size = raw.index(b"GET /next")
    assert read_request(raw) == PlainRequest(
        "GET", "/media/t/v1/master.m3u8?CMCD=sid%3D%22a%22", None, False, size, raw[: size - 4]
    )


def test_accept_encoding_lines_are_one_list_and_connection_close_is_seen() -> None:
    raw = (
        b"HEAD /media/t/v1/a.mpd HTTP/1.1\r\nhost:origin\r\nAccept-Encoding: gzip \r\n"
        b"User-Agent: player/1.0 (X11; Linux)\r\naccept-encoding:\tbr;q=1.0\r\n"
        b"Connection: keep-alive, Close\r\n\r\n"
    )
    request = read_request(raw)
    assert request == PlainRequest("HEAD", "/media/t/v1/a.mpd", "gzip, br;q=1.0", True, len(raw), raw[:-4])
    assert list(fields(request.head).items()) == [
        ("host", "origin"),
        ("Accept-Encoding", "gzip"),
        ("User-Agent", "player/1.0 (X11; Linux)"),
        ("accept-encoding", "br;q=1.0"),
        ("Connection", "keep-alive, Close"),
    ]
    assert fields(request.head).getall("ACCEPT-ENCODING") == ["gzip", "br;q=1.0"]


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: origin\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHo",
        b"",
    ],
    ids=["no-empty-line", "mid-field", "nothing"],
)
def test_a_head_not_yet_ended_waits_for_more(raw: bytes) -> None:
    assert read_request(raw) is INCOMPLETE


def test_a_head_that_never_ends_is_left_to_the_general_path() -> None:
    raw = b"GET /media/t/v1/a.mpd HTTP/1.1\r\nX-Pad: " + b"a" * HEAD_MAX
    assert read_request(raw) is NOT_PLAIN


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"OPTIONS /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"get /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.0\r\nHost: o\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/2.0\r\nHost: o\r\n\r\n",
        b"GET http://o/media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET  /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET /media/t/v1/a\x7f.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET /media/t/v1/\xc3\xa9.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"\r\nGET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nHost: p\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost : o\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\n folded\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\nX: y\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nX: a\x00b\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nBad Name: x\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nRange: bytes=0-1\r\n\r\n",
        b'GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nIf-None-Match: "x"\r\n\r\n',
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nif-modified-since: x\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nIf-Match: *\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nIf-Unmodified-Since: x\r\n\r\n",
        b'GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nIf-Range: "x"\r\n\r\n',
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nContent-Length: 0\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nExpect: 100-continue\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"GET /media/t/v1/a.mpd HTTP/1.1\r\nHost: o\r\nConnection: upgrade\r\n\r\n",
    ],
    ids=[
        "post",
        "options",
        "lowercase-method",
        "http-1.0",
        "http-2",
        "absolute-form",
        "asterisk-form",
        "two-spaces",
        "control-in-target",
        "utf8-in-target",
        "leading-empty-line",
        "no-host",
        "two-hosts",
        "space-before-colon",
        "obs-fold",
        "bare-lf",
        "nul-in-value",
        "space-in-name",
        "range",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        "content-length",
        "transfer-encoding",
        "expect",
        "upgrade",
        "connection-upgrade",
    ],
)
def test_anything_but_the_plainest_request_is_left_to_the_general_path(raw: bytes) -> None:
    assert read_request(raw) is NOT_PLAIN


def test_a_response_head_is_a_status_line_and_fields() -> None:
    head = response_head(200, "OK", [("Content-Type", "video/mp4"), ("Content-Length", "3")])
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 3\r\n"
