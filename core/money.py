"""Money as people read it, from integer cents (never through floats)."""

from __future__ import annotations

from decimal import Decimal


def dollars(cents: int) -> str:
    """1234567 → '12,345.67'; negative amounts carry a minus sign (U+2212)."""
    sign = "−" if cents < 0 else ""
    return f"{sign}{Decimal(abs(cents)).scaleb(-2):,.2f}"


def signed_dollars(cents: int) -> str:
    """Like dollars, with a '+' on positive amounts: for changes to a balance."""
    return ("+" if cents > 0 else "") + dollars(cents)
