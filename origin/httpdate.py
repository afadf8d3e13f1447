"""HTTP-date (RFC 9110 §5.6.7), parsed strictly: a value that is not one is ignored by its caller.

§13.1.3 and §13.1.4 require If-Modified-Since and If-Unmodified-Since to be ignored when the value
is not a valid HTTP-date or has more than one member, so the lenient e-mail date parser (which
reads ``date, date`` as its first date) is not used.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_NAME = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_NAME_L = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = f"({'|'.join(_MONTHS)})"
_TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})"
# IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT (the one format senders generate)
_IMF = re.compile(f"{_DAY_NAME}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT")
# obsolete rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850 = re.compile(f"{_DAY_NAME_L}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT")
# obsolete asctime-date: Sun Nov  6 08:49:37 1994
_ASCTIME = re.compile(f"{_DAY_NAME} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME} ([0-9]{{4}})")


def _build(year: int, month: str, day: str, hh: str, mm: str, ss: str) -> datetime | None:
    try:  # second may be 60 (a leap second, §5.6.7); HTTP time has no way to say more, so clamp
        month_number = _MONTHS.index(month) + 1
        return datetime(year, month_number, int(day), int(hh), int(mm), min(int(ss), 59), tzinfo=UTC)
    except ValueError:  # 31 Feb, hour 25, year 0
        return None


def parse_http_date(value: str | None, now: datetime) -> datetime | None:
    """The instant an HTTP-date names, or None when ``value`` is not exactly one HTTP-date.

    §5.6.7: recipients MUST accept all three formats; a two-digit rfc850 year that would be more
    than 50 years after ``now`` is the most recent past year with those digits.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if match := _IMF.fullmatch(text):
        day, month, year, hh, mm, ss = match.groups()
        return _build(int(year), month, day, hh, mm, ss)
    if match := _RFC850.fullmatch(text):
        day, month, yy, hh, mm, ss = match.groups()
        full = now.year - now.year % 100 + int(yy)
        if full > now.year + 50:
            full -= 100
        return _build(full, month, day, hh, mm, ss)
    if match := _ASCTIME.fullmatch(text):
        month, day, hh, mm, ss, year = match.groups()
        return _build(int(year), month, day.strip(), hh, mm, ss)
    return None
