"""Content coding negotiation (RFC 9110 §12.5.3): a pure parser and a pure choice.

Weights are kept as integer thousandths (§12.4.2 allows at most three decimals), so ``q=0.001``
and ``q=1`` compare exactly. The server offers codings in its order of preference, ending with
``identity``; another coding (say ``br``) is added by offering it, nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

IDENTITY = "identity"
Q_MAX = 1000
# §12.5.3: Accept-Encoding = #( codings [ weight ] ); codings = content-coding / "identity" / "*";
# §12.4.2: weight = OWS ";" OWS "q=" qvalue; qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_ELEMENT = re.compile(
    r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]*;[ \t]*[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?"
)
# §8.4.1.3: a recipient SHOULD consider "x-gzip" equivalent to "gzip" (likewise x-compress)
_ALIASES = {"x-gzip": "gzip", "x-compress": "compress"}


@dataclass(frozen=True)
class AcceptEncoding:
    """The weight of each listed coding (lower case, ``*`` included), in thousandths."""

    weights: Mapping[str, int]


def _qvalue(text: str | None) -> int:
    if text is None:
        return Q_MAX  # no weight means q=1 (§12.4.2)
    whole, _, fraction = text.partition(".")
    return int(whole) * Q_MAX + int((fraction + "000")[:3])


def parse_accept_encoding(value: str | None) -> AcceptEncoding | None:
    """None when the field is absent; malformed elements are dropped (they say nothing).

    A coding listed twice keeps its lowest weight, so a refusal (``q=0``) is never overridden.
    """
    if value is None:
        return None
    weights: dict[str, int] = {}
    for element in value.split(","):  # no quoted strings in this grammar: commas only separate
        match = _ELEMENT.fullmatch(element.strip(" \t"))
        if match is None:
            continue  # empty list elements (§5.6.1) and malformed ones are skipped alike
        coding = match.group(1).lower()  # §8.4.1: content codings are case-insensitive
        coding = _ALIASES.get(coding, coding)
        q = _qvalue(match.group(2))
        weights[coding] = min(q, weights.get(coding, q))
    return AcceptEncoding(weights)


def _weight(accept: AcceptEncoding, coding: str) -> int:
    """§12.5.3: a listed coding has its own weight; ``*`` covers only codings not listed."""
    if coding in accept.weights:
        return accept.weights[coding]
    if "*" in accept.weights:
        return accept.weights["*"]
    # identity is acceptable unless refused by identity;q=0 or by *;q=0 (handled above); it
    # ranks below every coding the client listed, so "gzip;q=0.5" still gets gzip
    return 1 if coding == IDENTITY else 0


def choose_coding(accept: AcceptEncoding | None, offered: Sequence[str]) -> str:
    """The coding to send: the highest non-zero weight, ties to the earliest offered.

    No field at all: identity, since clients that decode nothing send none (§12.5.3 lets any
    coding be used; identity is the safe one). Nothing acceptable (``identity;q=0`` and no offered
    coding listed): identity too. §12.5.3 says the origin ought then to send the response without
    content coding or answer 406; a 406 would break a player over a header detail and an edge would
    not cache it, while identity is always decodable.
    """
    if accept is None:
        return IDENTITY
    best, best_q = IDENTITY, 0
    for coding in offered:
        q = _weight(accept, coding)
        if q > best_q:
            best, best_q = coding, q
    return best
