from __future__ import annotations

from datetime import UTC, datetime

import pytest

from origin.conditional import Outcome, evaluate, range_applies

ETAG = '"abc"'
MODIFIED = datetime(2026, 11, 1, 12, 0, 0, 500_000, tzinfo=UTC)
SAME = "Sun, 01 Nov 2026 12:00:00 GMT"
EARLIER = "Sun, 01 Nov 2026 11:00:00 GMT"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


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
    assert evaluate(method, headers, ETAG, MODIFIED, NOW) is outcome


@pytest.mark.parametrize(
    ("value", "applies"),
    [(None, True), (ETAG, True), ('"old"', False), ("W/" + ETAG, False), (SAME, True), (EARLIER, False)],
)
def test_if_range(value: str | None, applies: bool) -> None:
    headers = {} if value is None else {"If-Range": value}
    assert range_applies(headers, ETAG, MODIFIED, NOW) is applies


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        pytest.param({"If-None-Match": '"x,y", W/"abc"'}, Outcome.NOT_MODIFIED, id="inm-comma-in-tag"),
        pytest.param({"If-None-Match": 'garbage, "abc"'}, Outcome.NOT_MODIFIED, id="inm-bad-element-skipped"),
        pytest.param({"If-None-Match": "abc"}, Outcome.PROCEED, id="inm-unquoted-is-no-tag"),
        pytest.param({"If-Match": 'junk, "abc"'}, Outcome.PROCEED, id="if-match-bad-element-skipped"),
        pytest.param({"If-Match": "junk"}, Outcome.PRECONDITION_FAILED, id="if-match-no-valid-tag"),
        pytest.param({"If-Match": "*"}, Outcome.PROCEED, id="if-match-star"),
        pytest.param({"If-Modified-Since": f"{SAME}, {SAME}"}, Outcome.PROCEED, id="ims-two-members"),
        pytest.param(
            {"If-Modified-Since": "Sun Nov  1 12:00:00 2026"}, Outcome.NOT_MODIFIED, id="ims-asctime"
        ),
        pytest.param({"If-Unmodified-Since": f"{EARLIER}, x"}, Outcome.PROCEED, id="ius-invalid-ignored"),
    ],
)
def test_fields_are_read_leniently(headers: dict[str, str], outcome: Outcome) -> None:
    assert evaluate("GET", headers, ETAG, MODIFIED, NOW) is outcome


@pytest.mark.parametrize(
    ("now", "applies"),
    [
        pytest.param(datetime(2026, 11, 1, 12, 0, 0, 900_000, tzinfo=UTC), False, id="same-second-weak"),
        pytest.param(datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC), True, id="one-second-later-strong"),
        pytest.param(datetime(2026, 11, 1, 11, 0, 0, tzinfo=UTC), False, id="future-mtime-weak"),
    ],
)
def test_if_range_date_only_when_last_modified_is_strong(now: datetime, applies: bool) -> None:
    """RFC 9110 §13.1.5 with §8.8.2.2: Last-Modified at least one second before Date."""
    assert range_applies({"If-Range": SAME}, ETAG, MODIFIED, now) is applies
