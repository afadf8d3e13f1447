from __future__ import annotations

from datetime import UTC, datetime

import pytest

from origin.conditional import Outcome, evaluate, range_applies

ETAG = '"abc"'
MODIFIED = datetime(2026, 11, 1, 12, 0, 0, 500_000, tzinfo=UTC)
SAME = "Sun, 01 Nov 2026 12:00:00 GMT"
EARLIER = "Sun, 01 Nov 2026 11:00:00 GMT"


@pytest.mark.parametrize(
    ("method", "headers", "outcome"),
    [
        pytest.param("GET", {}, Outcome.PROCEED, id="unconditional"),
        pytest.param("GET", {"If-None-Match": ETAG}, Outcome.NOT_MODIFIED, id="inm-match"),
        pytest.param("HEAD", {"If-None-Match": f'"x", {ETAG}'}, Outcome.NOT_MODIFIED, id="inm-list"),
        pytest.param("GET", {"If-None-Match": "W/" + ETAG}, Outcome.NOT_MODIFIED, id="inm-weak-compare"),
        pytest.param("GET", {"If-None-Match": "*"}, Outcome.NOT_MODIFIED, id="inm-star"),
        pytest.param("GET", {"If-None-Match": '"other"'}, Outcome.PROCEED, id="inm-miss"),
        pytest.param("GET", {"If-Modified-Since": SAME}, Outcome.NOT_MODIFIED, id="ims-same-second"),
        pytest.param("GET", {"If-Modified-Since": EARLIER}, Outcome.PROCEED, id="ims-earlier"),
        pytest.param("GET", {"If-Modified-Since": "yesterday"}, Outcome.PROCEED, id="ims-invalid-ignored"),
        pytest.param(
            "GET",
            {"If-None-Match": '"other"', "If-Modified-Since": SAME},
            Outcome.PROCEED,
            id="inm-takes-precedence-over-ims",
        ),
        pytest.param("GET", {"If-Match": ETAG}, Outcome.PROCEED, id="if-match"),
        pytest.param("GET", {"If-Match": '"other"'}, Outcome.PRECONDITION_FAILED, id="if-match-miss"),
        pytest.param(
            "GET", {"If-Match": "W/" + ETAG}, Outcome.PRECONDITION_FAILED, id="if-match-strong-only"
        ),
        pytest.param("GET", {"If-Unmodified-Since": EARLIER}, Outcome.PRECONDITION_FAILED, id="ius-modified"),
        pytest.param("GET", {"If-Unmodified-Since": SAME}, Outcome.PROCEED, id="ius-unmodified"),
    ],
)
def test_preconditions_in_rfc_9110_order(method: str, headers: dict[str, str], outcome: Outcome) -> None:
    assert evaluate(method, headers, ETAG, MODIFIED) is outcome


@pytest.mark.parametrize(
    ("value", "applies"),
    [(None, True), (ETAG, True), ('"old"', False), ("W/" + ETAG, False), (SAME, True), (EARLIER, False)],
)
def test_if_range(value: str | None, applies: bool) -> None:
    headers = {} if value is None else {"If-Range": value}
    assert range_applies(headers, ETAG, MODIFIED) is applies
