"""The CTA-5004 payload grammar, on the specification's own examples and on malformed payloads."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.cmcd import CmcdError, _scan, from_request, parse_payload

SID = "6e2fb550-c457-11e9-bb97-0800200c9a66"
CID = "faec5fc2-ac30-11eabb37-0242ac130002"


def test_spec_query_example_with_every_key() -> None:
    # CTA-5004 §5 example: all keys on a video segment request, sent as one query argument,
    # URL-encoded (the nor value is itself URL-encoded inside its quotes, so %2F arrives as %252F).
    query = (
        "CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%22faec5fc2-ac30-11eabb37-0242ac130002%22%2C"
        "d%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22%2C"
        "nrr%3D%2212323-48763%22%2Cot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd%2C"
        "sid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66%22%2Cst%3Dv%2Csu%2Ctb%3D6000"
    )
    decoded = {k: v[0] for k, v in parse_qs(query).items()}
    assert from_request(decoded, {}) == {
        "bl": 21300,
        "br": 3200,
        "bs": True,
        "cid": CID,
        "d": 4004,
        "dl": 18500,
        "mtp": 48100,
        "nor": "..%2F300kbps%2Ftrack.m4v",
        "nrr": "12323-48763",
        "ot": "v",
        "pr": 1.08,
        "rtp": 12000,
        "sf": "d",
        "sid": SID,
        "st": "v",
        "su": True,
        "tb": 6000,
    }


def test_spec_header_example_sharded_over_four_headers() -> None:
    # CTA-5004 §5: the same data in the four headers, by how often each key changes.
    headers = {
        "CMCD-Request": "mtp=25400",
        "CMCD-Object": "br=3200,d=4004,ot=v,tb=6000",
        "CMCD-Status": "bs,rtp=15000",
        "CMCD-Session": f'sid="{SID}"',
    }
    assert from_request({}, headers) == {
        "mtp": 25400,
        "br": 3200,
        "d": 4004,
        "ot": "v",
        "tb": 6000,
        "bs": True,
        "rtp": 15000,
        "sid": SID,
    }


def test_spec_manifest_example_session_and_content_id() -> None:
    assert parse_payload(f'cid="{CID}",sid="{SID}"') == {"cid": CID, "sid": SID}


def test_strings_unescape_quotes_and_backslashes() -> None:
    assert parse_payload(r'cid="a\"b\\c,d=e",su') == {"cid": 'a"b\\c,d=e', "su": True}


def test_custom_keys_with_a_prefix_are_kept() -> None:
    # CTA-5004 §3.2 rule 4's example keys: reverse-DNS prefix, case kept (rule 6).
    assert parse_payload('com.example-myNumericKey=500,com.example-myStringKey="x"') == {
        "com.example-myNumericKey": 500,
        "com.example-myStringKey": "x",
    }


def test_a_token_is_not_a_string() -> None:
    with pytest.raises(CmcdError, match="'ot'"):
        parse_payload('ot="v"')  # Table 1: ot is a Token, sent bare


def test_no_cmcd_is_none() -> None:
    assert from_request({"other": "1"}, {"Accept": "*/*"}) is None


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("bl=abc", "'bl'"),  # an integer key with a token
        ("bl=-100", "'bl'"),  # negative buffer length
        ("bl=1.5", "'bl'"),  # decimal where Table 1 says integer
        ('sid="unterminated', "not closed"),
        (r'sid="bad\escape"', "backslash"),
        ("ot=x", "'ot'"),  # not one of Table 1's object types
        ("sf=h,sf=d", "twice"),
        ("bl=100,", "ends with a comma"),
        ("bl=100;br=3", "not an integer"),
        ('sid="a"x', "comma is expected"),
        ("BL=100", "'BL'"),  # keys are case-sensitive: BL is not bl, and has no prefix
        ("=5", "key is expected"),
        ("su=1", "'su'"),  # a true boolean is the bare key alone
        ("mykey=5", "'mykey'"),  # a custom key needs a hyphenated prefix
        ('sid="' + "x" * 65 + '"', "'sid'"),  # at most 64 characters
        ('sid="caf\u00e9"', "printable ASCII"),
    ],
    ids=[
        "integer-token",
        "negative",
        "decimal-for-integer",
        "unterminated-string",
        "bad-escape",
        "unknown-object-type",
        "duplicate-key",
        "trailing-comma",
        "semicolon",
        "junk-after-string",
        "upper-case-key",
        "no-key",
        "boolean-with-value",
        "custom-key-without-prefix",
        "sid-too-long",
        "non-ascii",
    ],
)
def test_malformed_payloads_are_refused(payload: str, problem: str) -> None:
    with pytest.raises(CmcdError, match=problem):
        parse_payload(payload)


def test_a_key_in_both_query_and_header_is_refused() -> None:
    with pytest.raises(CmcdError, match="sent twice"):
        from_request({"CMCD": "bl=100"}, {"CMCD-Request": "bl=200"})


def test_empty_payload_has_no_keys() -> None:
    assert parse_payload("") == {}


@given(st.text(alphabet='abdlmorstv-.=,"\\ 0123456789xé', max_size=40))
def test_the_fast_path_agrees_with_the_scanner(text: str) -> None:
    # parse_payload matches whole pairs with one regular expression and falls back to the
    # character scanner only to explain a refusal: both must accept and refuse the same payloads.
    try:
        expected: dict[str, object] | str = _scan(text)
    except CmcdError as exc:
        expected = exc.message
    try:
        got: dict[str, object] | str = parse_payload(text)
    except CmcdError as exc:
        got = exc.message
    assert got == expected
