from __future__ import annotations

from datetime import UTC, datetime

import pytest

from origin.httpdate import parse_http_date

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
EXAMPLE = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)  # RFC 9110 §5.6.7's own example


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE, id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", EXAMPLE, id="asctime"),
        pytest.param("Thursday, 01-Jan-76 00:00:00 GMT", datetime(2076, 1, 1, tzinfo=UTC), id="rfc850-near"),
        pytest.param("Monday, 01-Jan-77 00:00:00 GMT", datetime(1977, 1, 1, tzinfo=UTC), id="rfc850-past"),
        pytest.param("Sun, 06 Nov 1994 08:49:60 GMT", EXAMPLE.replace(second=59), id="leap-second"),
        pytest.param("  Sun, 06 Nov 1994 08:49:37 GMT\t", EXAMPLE, id="ows"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", None, id="two"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 +0000", None, id="not-gmt"),
        pytest.param("Sun, 31 Feb 1994 08:49:37 GMT", None, id="no-such-day"),
        pytest.param("Sun, 06 Nov 1994 25:49:37 GMT", None, id="no-such-hour"),
        pytest.param("Sun, \u0660\u0666 Nov 1994 08:49:37 GMT", None, id="non-ascii-digits"),
        pytest.param("yesterday", None, id="garbage"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_http_date(value: str | None, expected: datetime | None) -> None:
    assert parse_http_date(value, NOW) == expected
