from __future__ import annotations

import pytest

from origin.negotiation import AcceptEncoding, choose_coding, parse_accept_encoding

OFFERED = ("gzip", "identity")


@pytest.mark.parametrize(
    ("value", "weights"),
    [
        pytest.param("gzip, br", {"gzip": 1000, "br": 1000}, id="plain-list"),
        pytest.param("GZip;Q=0.5 ,,  br ; q=1.000", {"gzip": 500, "br": 1000}, id="case-ows-empty-elements"),
        pytest.param("gzip;q=bogus, br", {"br": 1000}, id="bad-weight-drops-the-element"),
        pytest.param("gzip;q=1.5, gzip;q=0.0001", {}, id="out-of-grammar-weights"),
        pytest.param("gzip;level=9", {}, id="unknown-parameter"),
        pytest.param("x-gzip;q=0.3", {"gzip": 300}, id="x-gzip-is-gzip"),
        pytest.param("gzip, gzip;q=0", {"gzip": 0}, id="a-refusal-stands"),
        pytest.param("", {}, id="empty"),
        pytest.param("gzïp, *;q=0.1", {"*": 100}, id="non-ascii-token-dropped"),
    ],
)
def test_parse_accept_encoding(value: str, weights: dict[str, int]) -> None:
    assert parse_accept_encoding(value) == AcceptEncoding(weights)


@pytest.mark.parametrize(
    ("value", "coding"),
    [
        pytest.param(None, "identity", id="absent"),
        pytest.param("", "identity", id="empty-means-no-coding"),
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("br", "identity", id="only-unoffered"),
        pytest.param("*", "gzip", id="star"),
        pytest.param("*, gzip;q=0", "identity", id="star-does-not-cover-listed"),
        pytest.param("*;q=0", "identity", id="nothing-acceptable-falls-back-to-identity"),
        pytest.param("identity;q=0", "identity", id="identity-refused-nothing-else"),
        pytest.param("identity;q=0, gzip;q=0.1", "gzip", id="identity-refused"),
        pytest.param("identity;q=1, gzip;q=0.001", "identity", id="q-compared"),
        pytest.param("identity;q=0.5, gzip;q=0.5", "gzip", id="tie-goes-to-server-order"),
        pytest.param("gzip;q=0.001", "gzip", id="listed-beats-implicit-identity"),
        pytest.param("*;q=0.2, identity;q=0.3", "identity", id="specific-identity-over-star"),
    ],
)
def test_choose_coding(value: str | None, coding: str) -> None:
    assert choose_coding(parse_accept_encoding(value), OFFERED) == coding


def test_a_later_coding_is_added_by_offering_it() -> None:
    accept = parse_accept_encoding("gzip;q=0.8, br")
    assert choose_coding(accept, ("br", "gzip", "identity")) == "br"
    assert choose_coding(accept, OFFERED) == "gzip"
    assert choose_coding(accept, ("identity",)) == "identity"
