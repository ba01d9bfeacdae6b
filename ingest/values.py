"""Parse the cells of bank CSV exports: money amounts and dates.

Every bank writes numbers and dates its own way, so these helpers accept the common variants
(currency symbols, accountants' parentheses, trailing minus, European and Swiss grouping,
datetimes in date columns, ...) and reject anything they cannot read exactly. Amounts become
integer cents; float arithmetic never touches them. Everything here is pure: no I/O, stdlib only.

A cell that cannot be read raises `BadValue`, whose message is a short reason fit to show a
user next to the offending line.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

# A household's amounts stay far below a billion; a larger one is a bad value, not a crash. The
# bound keeps every amount, and the sum of ten million of them, inside DECIMAL(18,2), which the
# models cast cents to: 92233720368547758.07 fits a BIGINT of cents but not that type.
MAX_AMOUNT_WHOLE_DIGITS = 9
MAX_AMOUNT_CENTS = 10 ** (MAX_AMOUNT_WHOLE_DIGITS + 2) - 1

__all__ = [
    "DATE_FORMAT_CANDIDATES",
    "DECIMAL_SEPARATORS",
    "MAX_AMOUNT_CENTS",
    "MAX_AMOUNT_WHOLE_DIGITS",
    "THOUSANDS_SEPARATORS",
    "BadValue",
    "date_out_of_range",
    "posting_contradiction",
    "day_month_swapped",
    "infer_date_format",
    "parse_amount_cents",
    "parse_date",
    "parse_dates",
    "reads_both_ways",
]


class BadValue(ValueError):
    """A cell that cannot be parsed; str(e) is a short human reason.

    For example "amount '12,3.4' is not a number". `index` is the position of the cell in the
    column when the error comes from a column-wide function (`parse_dates`,
    `infer_date_format`), so the caller can name the line; it is None otherwise.
    """

    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.index = index


# --- amounts ---------------------------------------------------------------------------------

DECIMAL_SEPARATORS = frozenset({".", ","})
THOUSANDS_SEPARATORS = frozenset({"", ",", ".", "'", " "})


def _plain_character(character: str) -> str:
    """Exports use typographic spaces (French grouping) and the minus sign U+2212, and some
    carry invisible marks (a right-to-left mark before the number, a zero-width space): spaces
    become " ", the minus "-", and format marks go, leaving what the grammar below reads."""
    if character == "\u2212":
        return "-"
    category = unicodedata.category(character)
    if category == "Zs":
        return " "
    if category == "Cf":
        return ""
    return character


# What may surround the number: spaces, signs, accountants' parentheses and a currency code
# such as USD. Codes must be three capitals standing alone, so "12 DR" or "1abc2" stay errors
# rather than losing letters that might carry meaning.
_DECORATION = r"(?:\s|[-+()]|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z]))*"


@functools.cache
def _amount_pattern(decimal: str, thousands: str) -> re.Pattern[str]:
    whole = "[0-9]*"
    if thousands:
        grouped = rf"[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+"
        whole = rf"(?:{grouped}|{whole})"
    number = rf"(?P<whole>{whole})(?P<decimal>{re.escape(decimal)}(?P<fraction>[0-9]*))?"
    return re.compile(rf"(?P<prefix>{_DECORATION}){number}(?P<suffix>{_DECORATION})")


def _check_separators(decimal: str, thousands: str) -> None:
    # A wrong separator is a configuration mistake, not a bad cell, hence plain ValueError.
    if decimal not in DECIMAL_SEPARATORS:
        raise ValueError(f"decimal separator must be one of {sorted(DECIMAL_SEPARATORS)}")
    if thousands not in THOUSANDS_SEPARATORS:
        raise ValueError(f"thousands separator must be one of {sorted(THOUSANDS_SEPARATORS)}")
    if decimal == thousands:
        raise ValueError("decimal and thousands separators must differ")


def parse_amount_cents(
    text: str, decimal: str = ".", thousands: str = ",", currency_texts: tuple[str, ...] = ()
) -> int:
    """Parse a money amount into exact integer cents.

    Accepts currency symbols and three-letter codes on either side, a leading or trailing
    minus, parentheses for negatives, a doubled minus as plus (a reversal), and a lone dash as
    the accountants' zero. `thousands` may be "" to forbid grouping; groups must be of 3 digits.
    `currency_texts` are currencies written in letters ("Fr.", "kr"), removed wherever they
    stand, in any case. More than two decimals is an error rather than a silent rounding.
    """
    _check_separators(decimal, thousands)
    shown = text.strip()
    if not shown:
        raise BadValue("empty amount")
    not_a_number = BadValue(f"amount '{shown}' is not a number")

    normalised = "".join(_plain_character(character) for character in shown)
    for currency in currency_texts:
        normalised = re.sub(re.escape(currency), " ", normalised, flags=re.IGNORECASE)
    without_symbols = "".join(c for c in normalised if unicodedata.category(c) != "Sc")
    match = _amount_pattern(decimal, thousands).fullmatch(without_symbols)
    if match is None:
        raise not_a_number

    prefix, suffix = match["prefix"], match["suffix"]
    parenthesised = "(" in prefix
    if (
        prefix.count("(") > 1
        or prefix.count("(") != suffix.count(")")
        or ")" in prefix
        or "(" in suffix
    ):
        raise not_a_number
    minus_signs = prefix.count("-") + suffix.count("-")

    whole, fraction = match["whole"], match["fraction"] or ""
    if not whole and not fraction:
        # A bare dash (possibly with a currency) is how spreadsheets print zero; a bare
        # decimal point or currency symbol is not a number at all.
        if minus_signs and not match["decimal"]:
            return 0
        raise not_a_number
    if len(fraction) > 2:
        raise BadValue(
            f"amount '{shown}' has {len(fraction)} decimals: amounts are kept in cents, so a"
            " currency with three decimals (e.g. KWD, BHD) cannot be loaded"
        )

    magnitude = int(whole.replace(thousands, "") or "0") * 100 + int(fraction.ljust(2, "0"))
    if magnitude > MAX_AMOUNT_CENTS:
        raise BadValue(f"amount '{shown}' is too large: at most {MAX_AMOUNT_CENTS // 100:,}.99")
    # Each minus and each pair of parentheses flips the sign, so "--21.78" is a reversal.
    negative = (minus_signs + parenthesised) % 2 == 1
    return -magnitude if negative else magnitude


# --- dates -----------------------------------------------------------------------------------

# Order matters twice: formats that fit a column and agree on every value resolve to the first,
# and ambiguity messages name the earlier format first.
DATE_FORMAT_CANDIDATES: tuple[str, ...] = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y%m%d",
)

_TIME_DIRECTIVES = frozenset("HIMSfpzZXc")

# A time of day after the date, as in "2026-03-04T10:22:01Z" or "03/04/2026 9:05 PM +01:00".
_TIME_SUFFIX = re.compile(
    r"(?:T|\s+)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
    r"(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?))?$"
)


@functools.cache
def _directives(fmt: str) -> frozenset[str]:
    # Pairing "%" with the next character keeps a literal "%%" from reading as a directive.
    return frozenset(directive[1] for directive in re.findall("%.", fmt))


def parse_date(text: str, fmt: str) -> datetime.date:
    """Parse one date with a strptime format.

    A datetime in a date-only format keeps its date as written (no time-zone conversion).
    Month-only formats such as %b-%y give the 1st of the month. With %Y, years before 1900 are
    rejected: strptime happily reads "03/14/26" as the year 26.
    """
    shown = text.strip()
    if not shown:
        raise BadValue("empty date")
    directives = _directives(fmt)
    date_part = shown if directives & _TIME_DIRECTIVES else _TIME_SUFFIX.sub("", shown)
    mismatch = BadValue(f"date '{shown}' does not match {fmt}")
    try:
        parsed = datetime.datetime.strptime(date_part, fmt)
    except ValueError:
        raise mismatch from None
    if "Y" in directives and parsed.year < 1900:
        raise mismatch
    return parsed.date()


def _parse_or_none(text: str, fmt: str) -> datetime.date | None:
    try:
        return parse_date(text, fmt)
    except BadValue:
        return None


def infer_date_format(values: Iterable[str]) -> str:
    """Pick the one format in DATE_FORMAT_CANDIDATES that reads the whole column.

    Blank values are ignored. Raises BadValue, with `index` set to the offending value's
    position in `values`, when no candidate reads every value or when the candidates that do
    disagree about some value (typically day/month order).
    """
    first_index_of: dict[str, int] = {}
    for index, value in enumerate(values):
        first_index_of.setdefault(value.strip(), index)
    first_index_of.pop("", None)
    if not first_index_of:
        raise BadValue("no dates to infer a format from")

    # Narrow the candidates value by value; each survivor keeps its reading of every value.
    readings: dict[str, list[datetime.date]] = {fmt: [] for fmt in DATE_FORMAT_CANDIDATES}
    for value in first_index_of:
        for fmt in list(readings):
            date = _parse_or_none(value, fmt)
            if date is None:
                del readings[fmt]
            else:
                readings[fmt].append(date)
        if not readings:
            culprit = _first_unreadable(first_index_of) or value
            raise BadValue(
                f"no date format fits the column; e.g. '{culprit}'", first_index_of[culprit]
            )

    chosen, *others = readings
    for position, value in enumerate(first_index_of):
        chosen_date = readings[chosen][position]
        for other in others:
            other_date = readings[other][position]
            if other_date != chosen_date:
                raise BadValue(
                    f"ambiguous day/month order: '{value}' reads as {chosen_date} with {chosen}"
                    f" and {other_date} with {other}; set values.date_format",
                    first_index_of[value],
                )
    return chosen


def _first_unreadable(values: Iterable[str]) -> str | None:
    """The first value that no candidate reads at all, if any.

    Without one, the column mixes formats and the value that ruled out the last candidate is
    the better example.
    """
    for value in values:
        if all(_parse_or_none(value, fmt) is None for fmt in DATE_FORMAT_CANDIDATES):
            return value
    return None


def _parse_with_any(text: str, formats: Sequence[str]) -> datetime.date:
    readings = [(fmt, date) for fmt in formats if (date := _parse_or_none(text, fmt)) is not None]
    if not readings:
        raise BadValue(f"date '{text}' does not match {' or '.join(formats)}")
    first_fmt, first_date = readings[0]
    for fmt, date in readings[1:]:
        if date != first_date:
            raise BadValue(f"date '{text}' reads differently with {first_fmt} and {fmt}")
    return first_date


def parse_dates(
    values: Sequence[str], formats: str | Sequence[str] | None
) -> list[datetime.date | None]:
    """Parse a column of dates; blank values become None.

    `formats` is one strptime format, a list of formats each value may be in (a value read by
    several must read the same under all), or None to infer one format for the whole column.
    A BadValue carries the position of the offending value in `index`.
    """
    if formats is None:
        if all(not value.strip() for value in values):
            return [None] * len(values)
        formats = infer_date_format(values)
    if isinstance(formats, str):
        formats = [formats]
    elif not formats:
        raise ValueError("formats must name at least one date format")

    dates: list[datetime.date | None] = []
    for index, value in enumerate(values):
        text = value.strip()
        if not text:
            dates.append(None)
            continue
        try:
            dates.append(_parse_with_any(text, formats))
        except BadValue as error:
            error.index = index
            raise
    return dates


# --- dates that cannot be right ------------------------------------------------------------

EARLIEST_DATE = datetime.date(1990, 1, 1)
MAX_DAYS_AHEAD = 31  # a statement may be downloaded before its last rows post


def date_out_of_range(date: datetime.date, run_date: datetime.date) -> str | None:
    """Why a parsed date cannot be a transaction's, or None: a date in year 9999 would make
    every calendar built over the dates millions of days long."""
    if date < EARLIEST_DATE:
        return f"date {date} is before {EARLIEST_DATE}"
    latest = run_date + datetime.timedelta(days=MAX_DAYS_AHEAD)
    if date > latest:
        return f"date {date} is more than {MAX_DAYS_AHEAD} days after today ({run_date})"
    return None


def day_month_swapped(fmt: str) -> str:
    """The format with %d and %m exchanged ("%m/%d/%Y" -> "%d/%m/%Y"); others unchanged,
    among them those that lead with the year: no one writes a year-first date day before month."""
    if "%d" not in fmt or "%m" not in fmt:
        return fmt
    year = max(fmt.find("%Y"), fmt.find("%y"))
    if 0 <= year < min(fmt.index("%d"), fmt.index("%m")):
        return fmt
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def reads_both_ways(texts: Iterable[str], formats: Sequence[str]) -> bool:
    """Whether every date text also reads with day and month exchanged, and some to another
    date: then the file alone cannot tell which order it is in (every day is 12 or less)."""
    swapped = [day_month_swapped(fmt) for fmt in formats]
    if swapped == list(formats):
        return False
    differs = False
    for text in {text.strip() for text in texts} - {""}:
        reading = _parse_or_none_with(text, formats)
        other = _parse_or_none_with(text, swapped)
        if reading is None or other is None:
            return False
        differs = differs or reading != other
    return differs


def _parse_or_none_with(text: str, formats: Sequence[str]) -> datetime.date | None:
    try:
        return _parse_with_any(text, formats)
    except BadValue:
        return None


# A posted date this far from its transaction date is not how any bank posts.
POSTED_DAYS_BEFORE, POSTED_DAYS_AFTER = 10, 40


def posting_contradiction(date: datetime.date, posted: datetime.date | None) -> str | None:
    """Why a transaction date and its posted date cannot both be read right, or None."""
    if posted is None:
        return None
    lag = (posted - date).days
    if lag < -POSTED_DAYS_BEFORE:
        return f"posted {posted} is {-lag} days before the transaction date {date}"
    if lag > POSTED_DAYS_AFTER:
        return f"posted {posted} is {lag} days after the transaction date {date}"
    return None
