"""Properties: the parsers agree with a plain reading of RFC 9110's grammar on generated input.

Each strategy builds a value from the ABNF (with the optional whitespace, letter case and empty
list elements the grammar allows) together with what it means; an oracle written here from the
RFC's words, independent of ``origin/``, says what the answer must be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from origin.conditional import EntityTag, Outcome, evaluate, parse_entity_tags, range_applies
from origin.httpdate import parse_http_date
from origin.negotiation import choose_coding, parse_accept_encoding
from origin.ranges import ByteRange, RangeNotSatisfiable, parse_range

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)
OWS = st.sampled_from(["", " ", "\t", "  ", " \t"])
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def mixed_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(word, upper, strict=True))
    )


def joined_list(elements: list[str], draw: st.DrawFn) -> str:
    """§5.6.1: 1#element with OWS around commas and empty elements that recipients must skip."""
    parts = []
    for element in elements:
        parts.extend([","] * draw(st.integers(0, 1)))  # an empty element before this one
        parts.append(draw(OWS) + element + draw(OWS))
    return ",".join(parts)


# --- Accept-Encoding (§12.5.3, §12.4.2) -------------------------------------------------------

QVALUES = st.one_of(
    st.builds(lambda d: "0." + d, st.text("0123456789", max_size=3)),
    st.just("0"),
    st.builds(lambda z: "1." + z, st.text("0", max_size=3)),
    st.just("1"),
)
CODINGS = st.sampled_from(["gzip", "br", "compress", "deflate", "identity", "*", "zstd", "exi"])


@dataclass(frozen=True)
class Listed:
    coding: str
    q: str | None  # as written


@st.composite
def accept_encodings(draw: st.DrawFn) -> tuple[str, list[Listed]]:
    codings = draw(st.lists(CODINGS, unique=True, max_size=6))
    listed = [Listed(c, draw(st.none() | QVALUES)) for c in codings]
    elements = []
    for item in listed:
        text = draw(mixed_case(item.coding))
        if item.q is not None:
            text += draw(OWS) + ";" + draw(OWS) + draw(st.sampled_from(["q", "Q"])) + "=" + item.q
        elements.append(text)
    return joined_list(elements, draw), listed


def thousandths(q: str | None) -> int:
    return 1000 if q is None else int(Decimal(q) * 1000)


def oracle_coding(listed: list[Listed], offered: tuple[str, ...]) -> str:
    """§12.5.3 read plainly: a listed coding is acceptable unless q=0; ``*`` matches any coding
    not listed; identity is acceptable unless refused; the highest weight wins. Ties go to the
    server's order; when nothing is acceptable the origin sends identity (its documented choice).
    """
    weight = {item.coding: thousandths(item.q) for item in listed}
    candidates = []
    for rank, coding in enumerate(offered):
        if coding in weight:
            q = weight[coding]
        elif "*" in weight:
            q = weight["*"]
        else:
            q = 1 if coding == "identity" else 0  # implicitly acceptable, below anything listed
        if q > 0:
            candidates.append((-q, rank, coding))
    return min(candidates)[2] if candidates else "identity"


@PROPERTY
@given(accept_encodings())
def test_accept_encoding_weights_are_the_grammars(generated: tuple[str, list[Listed]]) -> None:
    value, listed = generated
    parsed = parse_accept_encoding(value)
    assert parsed is not None
    assert dict(parsed.weights) == {item.coding: thousandths(item.q) for item in listed}


@PROPERTY
@given(accept_encodings(), st.sampled_from([("gzip", "identity"), ("br", "gzip", "identity"), ("identity",)]))
def test_the_chosen_coding_is_the_rfcs(generated: tuple[str, list[Listed]], offered: tuple[str, ...]) -> None:
    value, listed = generated
    assert choose_coding(parse_accept_encoding(value), offered) == oracle_coding(listed, offered)


# --- Range (§14.1.1, §14.1.2) ----------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    first: int | None  # None: a suffix-range
    last: int | None


SPECS = st.one_of(
    st.builds(Spec, st.integers(0, 400), st.none() | st.integers(0, 400)),
    st.builds(Spec, st.none(), st.integers(0, 400)),
)


@st.composite
def range_fields(draw: st.DrawFn) -> tuple[str, list[Spec]]:
    specs = draw(st.lists(SPECS, min_size=1, max_size=4))
    elements = [
        ("" if s.first is None else str(s.first)) + "-" + ("" if s.last is None else str(s.last))
        for s in specs
    ]
    return draw(mixed_case("bytes")) + "=" + joined_list(elements, draw), specs


def oracle_range(specs: list[Spec], size: int) -> ByteRange | type[RangeNotSatisfiable] | None:
    """§14.1.1 by sets of byte positions: what each satisfiable spec covers, then one range if the
    union is contiguous, the whole object if not (§14.2 allows it), 416 if nothing is satisfiable."""
    if any(s.first is not None and s.last is not None and s.last < s.first for s in specs):
        return None  # an invalid range-spec: the field is ignored
    covered: set[int] = set()
    satisfiable = False
    for s in specs:
        if s.first is None:
            assert s.last is not None
            if s.last > 0:  # a suffix-range with a non-zero length is satisfiable
                satisfiable = True
                covered |= set(range(max(0, size - s.last), size))
        elif s.first < size:  # an int-range is satisfiable when first-pos is below the length
            satisfiable = True
            last = size - 1 if s.last is None else min(s.last, size - 1)
            covered |= set(range(s.first, last + 1))
    if not satisfiable:
        return RangeNotSatisfiable
    if not covered:
        return None  # a zero-length object: nothing a 206 could name, so the whole (empty) one
    low, high = min(covered), max(covered)
    return ByteRange(low, high) if covered == set(range(low, high + 1)) else None


@PROPERTY
@given(range_fields(), st.integers(0, 300))
def test_byte_ranges_are_the_grammars(generated: tuple[str, list[Spec]], size: int) -> None:
    value, specs = generated
    expected = oracle_range(specs, size)
    if expected is RangeNotSatisfiable:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(value, size)
    else:
        assert parse_range(value, size) == expected


# --- Entity tags and preconditions (§8.8.3, §13.1, §13.2.2) ----------------------------------

ETAGC = st.characters(codec="latin-1", blacklist_characters='"\x7f', min_codepoint=0x21)
TAGS = st.builds(EntityTag, st.text(ETAGC, max_size=8), st.booleans())
CURRENT = EntityTag("abc")
DATES = st.integers(-3, 3).map(lambda s: datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC) + timedelta(seconds=s))
MODIFIED = datetime(2026, 11, 1, 12, 0, 0, 400_000, tzinfo=UTC)


def render(tag: EntityTag) -> str:
    return ("W/" if tag.weak else "") + f'"{tag.opaque}"'


def imf(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


@st.composite
def tag_lists(draw: st.DrawFn) -> tuple[str, list[EntityTag] | None]:
    if draw(st.integers(0, 9)) == 0:
        return draw(OWS) + "*" + draw(OWS), None
    tags = draw(st.lists(st.one_of(TAGS, st.sampled_from([CURRENT, EntityTag("abc", True)])), max_size=4))
    return joined_list([render(t) for t in tags], draw), tags


@PROPERTY
@given(tag_lists())
def test_entity_tag_lists_are_the_grammars(generated: tuple[str, list[EntityTag] | None]) -> None:
    value, tags = generated
    assert parse_entity_tags(value) == tags


def oracle_preconditions(
    method: str,
    if_match: list[EntityTag] | str | None,
    if_none_match: list[EntityTag] | str | None,
    if_modified_since: datetime | None,
    if_unmodified_since: datetime | None,
) -> Outcome:
    """§13.2.2's five steps, in order; ``"absent"`` marks a field not sent, None marks ``*``."""
    modified = MODIFIED.replace(microsecond=0)
    if if_match != "absent":
        strong = if_match is None or any(not t.weak and t.opaque == CURRENT.opaque for t in if_match)
        if not strong:
            return Outcome.PRECONDITION_FAILED
    elif if_unmodified_since is not None and modified > if_unmodified_since:
        return Outcome.PRECONDITION_FAILED
    if if_none_match != "absent":
        if if_none_match is None or any(t.opaque == CURRENT.opaque for t in if_none_match):
            return Outcome.NOT_MODIFIED
    elif if_modified_since is not None and modified <= if_modified_since:
        return Outcome.NOT_MODIFIED
    return Outcome.PROCEED


@PROPERTY
@given(
    method=st.sampled_from(["GET", "HEAD"]),
    if_match=st.none() | tag_lists(),
    if_none_match=st.none() | tag_lists(),
    ims=st.none() | DATES,
    ius=st.none() | DATES,
)
def test_preconditions_follow_the_rfcs_order(
    method: str,
    if_match: tuple[str, list[EntityTag] | None] | None,
    if_none_match: tuple[str, list[EntityTag] | None] | None,
    ims: datetime | None,
    ius: datetime | None,
) -> None:
    headers = {}
    if if_match is not None:
        headers["If-Match"] = if_match[0]
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match[0]
    if ims is not None:
        headers["If-Modified-Since"] = imf(ims)
    if ius is not None:
        headers["If-Unmodified-Since"] = imf(ius)
    expected = oracle_preconditions(
        method,
        "absent" if if_match is None else if_match[1],
        "absent" if if_none_match is None else if_none_match[1],
        ims,
        ius,
    )
    assert evaluate(method, headers, render(CURRENT), MODIFIED, NOW) is expected


@PROPERTY
@given(
    validator=st.one_of(
        TAGS.map(render), DATES.map(imf), st.sampled_from([render(CURRENT), "W/" + render(CURRENT)])
    ),
    age=st.integers(-2, 2),
)
def test_if_range_honours_only_a_strong_match(validator: str, age: int) -> None:
    """§13.1.5: an entity-tag matches strongly; a date equals Last-Modified, which §8.8.2.2 counts
    as strong only when it is at least one second before the response's Date."""
    now = MODIFIED.replace(microsecond=0) + timedelta(seconds=age)
    if validator.startswith(('"', "W/")):
        expected = validator == render(CURRENT)
    else:
        expected = validator == imf(MODIFIED.replace(microsecond=0)) and age >= 1
    assert range_applies({"If-Range": validator}, render(CURRENT), MODIFIED, now) is expected


# --- HTTP-date (§5.6.7) ----------------------------------------------------------------------

INSTANTS = st.datetimes(  # hypothesis takes naive bounds and attaches the zone itself
    min_value=datetime(1977, 1, 1),  # noqa: DTZ001
    max_value=datetime(2076, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))


@PROPERTY
@given(INSTANTS, st.sampled_from(["imf", "rfc850", "asctime"]))
def test_http_dates_in_all_three_formats(when: datetime, form: str) -> None:
    if form == "imf":
        text = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    elif form == "rfc850":
        text = when.strftime("%A, %d-%b-%y %H:%M:%S GMT")  # years within 50 of 2026 read back
    else:
        text = when.strftime(f"%a %b {when.day:2d} %H:%M:%S %Y")
    assert parse_http_date(text, NOW) == when
