"""Tests for ingest.values: amount and date parsing of bank CSV cells."""

import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.values import (
    DATE_FORMAT_CANDIDATES,
    MAX_AMOUNT_CENTS,
    BadValue,
    infer_date_format,
    parse_amount_cents,
    parse_date,
    parse_dates,
)

THREE_DECIMALS = (
    "amounts are kept in cents, so a currency with three decimals (e.g. KWD, BHD) cannot be loaded"
)
AT_MOST = "at most 999,999,999.99"
EUROPEAN = {"decimal": ",", "thousands": "."}
SWISS = {"thousands": "'"}
FRENCH = {"decimal": ",", "thousands": " "}


def exactly(message: str) -> str:
    """A pytest.raises pattern that accepts only this whole message."""
    return f"^{re.escape(message)}$"


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "separators", "cents"),
    [
        ("1,234.56", {}, 123456),
        ("$1,234.56", {}, 123456),
        ("(12.34)", {}, -1234),
        ("-$12.34", {}, -1234),
        ("$-12.34", {}, -1234),
        ("- $12.00", {}, -1200),
        ("+ $1,150.00", {}, 115000),
        ("--21.78", {}, 2178),
        ("12.34-", {}, -1234),
        ("1.234,56", EUROPEAN, 123456),
        ("1.234", EUROPEAN, 123400),
        ("11'373.94", SWISS, 1137394),
        ("1 234,56", FRENCH, 123456),
        ("€12.50", {}, 1250),
        ("£3", {}, 300),
        ("USD 12.00", {}, 1200),
        ("12.00 USD", {}, 1200),
        ("$ -", {}, 0),
        ("-", {}, 0),
        ("12", {}, 1200),
        (".5", {}, 50),
        ("12.5", {}, 1250),
        ("$ 50.00", {}, 5000),
        ("($9.23)", {}, -923),
        # Beyond the common formats: padding, grouping-free input and typographic characters.
        ("  $ 50.00  ", {}, 5000),
        ("1234567.89", {}, 123456789),
        ("1,234,567.89", {}, 123456789),
        ("12.", {}, 1200),
        ("0.07", {}, 7),
        ("-0.00", {}, 0),
        ("(USD 12.00)", {}, -1200),
        ("CHF 11'373.94", SWISS, 1137394),
        ("1\u00a0234,56 €", FRENCH, 123456),
        ("1\u202f234,56", FRENCH, 123456),
        ("\u221212.34", {}, -1234),
        ("1234.56", {"thousands": ""}, 123456),
        ("-999,999,999.99", {}, -99_999_999_999),  # the largest amount read
        ("\u200f-45.60", {}, -4560),  # a right-to-left mark before the sign
        ("12\u200b.50", {}, 1250),  # a zero-width space
        ("1\u2007234.56", {"thousands": " "}, 123456),  # a figure space in the grouping
    ],
)
def test_parse_amount_cents_reads_every_supported_format(text, separators, cents):
    assert parse_amount_cents(text, **separators) == cents


@pytest.mark.parametrize(
    ("text", "separators", "message"),
    [
        ("", {}, "empty amount"),
        ("   ", {}, "empty amount"),
        ("1.234", {}, f"amount '1.234' has 3 decimals: {THREE_DECIMALS}"),
        ("12,345.678", {}, f"amount '12,345.678' has 3 decimals: {THREE_DECIMALS}"),
        ("1.234,567", EUROPEAN, f"amount '1.234,567' has 3 decimals: {THREE_DECIMALS}"),
        ("1.2345", {}, f"amount '1.2345' has 4 decimals: {THREE_DECIMALS}"),
        ("1,23.45", {}, "amount '1,23.45' is not a number"),
        ("12,3.4", {}, "amount '12,3.4' is not a number"),
        ("1,2345.00", {}, "amount '1,2345.00' is not a number"),
        ("abc", {}, "amount 'abc' is not a number"),
        ("12.3.4", {}, "amount '12.3.4' is not a number"),
        ("1-2", {}, "amount '1-2' is not a number"),
        ("$", {}, "amount '$' is not a number"),
        (".", {}, "amount '.' is not a number"),
        ("-.", {}, "amount '-.' is not a number"),
        ("USD", {}, "amount 'USD' is not a number"),
        ("12 DR", {}, "amount '12 DR' is not a number"),
        ("1abc2", {}, "amount '1abc2' is not a number"),
        ("(12.34", {}, "amount '(12.34' is not a number"),
        ("((12.34))", {}, "amount '((12.34))' is not a number"),
        (")12.34(", {}, "amount ')12.34(' is not a number"),
        ("1 234.56", {}, "amount '1 234.56' is not a number"),
        ("1,234.56", {"thousands": ""}, "amount '1,234.56' is not a number"),
        ("1,234.56", EUROPEAN, "amount '1,234.56' is not a number"),
        # A cent more than the largest amount read; a 64-bit integer of cents, which the
        # models' DECIMAL(18,2) cannot hold.
        ("1000000000.00", {}, f"amount '1000000000.00' is too large: {AT_MOST}"),
        ("-1,000,000,000.00", {}, f"amount '-1,000,000,000.00' is too large: {AT_MOST}"),
        ("92233720368547758.07", {}, f"amount '92233720368547758.07' is too large: {AT_MOST}"),
    ],
)
def test_parse_amount_cents_rejects_bad_cells(text, separators, message):
    with pytest.raises(BadValue, match=exactly(message)):
        parse_amount_cents(text, **separators)


@pytest.mark.parametrize(
    ("separators", "message"),
    [
        ({"decimal": ";"}, "decimal separator must be one of [',', '.']"),
        ({"thousands": "_"}, "thousands separator must be one of ['', ' ', \"'\", ',', '.']"),
        ({"decimal": ",", "thousands": ","}, "decimal and thousands separators must differ"),
    ],
)
def test_parse_amount_cents_rejects_bad_separator_configuration(separators, message):
    with pytest.raises(ValueError, match=exactly(message)) as raised:
        parse_amount_cents("1", **separators)
    # A configuration mistake must not masquerade as a bad cell.
    assert not isinstance(raised.value, BadValue)


def _digits(cents: int, thousands: str, decimal: str) -> str:
    """Render the magnitude of `cents` with the given separators, e.g. 1,234.56."""
    whole, fraction = divmod(abs(cents), 100)
    return f"{whole:,}".replace(",", thousands) + f"{decimal}{fraction:02d}"


def _dollars(cents):
    return ("-" if cents < 0 else "") + "$" + _digits(cents, ",", "."), {}


def _parenthesised(cents):
    dollars = "$" + _digits(cents, ",", ".")
    return (f"({dollars})" if cents < 0 else dollars), {}


def _trailing_minus(cents):
    return _digits(cents, ",", ".") + ("-" if cents < 0 else ""), {}


def _spaced_sign(cents):
    return ("- $" if cents < 0 else "+ $") + _digits(cents, ",", "."), {}


def _european(cents):
    return ("-" if cents < 0 else "") + _digits(cents, ".", ","), EUROPEAN


def _swiss(cents):
    return ("-" if cents < 0 else "") + "CHF " + _digits(cents, "'", "."), SWISS


def _french(cents):
    return ("-" if cents < 0 else "") + _digits(cents, " ", ",") + " €", FRENCH


@pytest.mark.parametrize(
    "render",
    [_dollars, _parenthesised, _trailing_minus, _spaced_sign, _european, _swiss, _french],
)
@given(cents=st.integers(min_value=-MAX_AMOUNT_CENTS, max_value=MAX_AMOUNT_CENTS))
def test_rendered_amounts_parse_back_to_the_same_cents(render, cents):
    text, separators = render(cents)
    assert parse_amount_cents(text, **separators) == cents


# --- single dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2026-03-14", "%Y-%m-%d", datetime.date(2026, 3, 14)),
        (" 2026-03-14 ", "%Y-%m-%d", datetime.date(2026, 3, 14)),
        ("2026-03-04T10:22:01", "%Y-%m-%d", datetime.date(2026, 3, 4)),
        ("2026-03-04 10:22:01", "%Y-%m-%d", datetime.date(2026, 3, 4)),
        ("2026-03-04T10:22:01Z", "%Y-%m-%d", datetime.date(2026, 3, 4)),
        ("2026-03-04T23:59:59.123456-05:00", "%Y-%m-%d", datetime.date(2026, 3, 4)),
        ("03/04/2026 9:05 PM", "%m/%d/%Y", datetime.date(2026, 3, 4)),
        ("2026-03-04T10:22:01", "%Y-%m-%dT%H:%M:%S", datetime.date(2026, 3, 4)),
        ("Jan-24", "%b-%y", datetime.date(2024, 1, 1)),
        ("9/5/2026", "%m/%d/%Y", datetime.date(2026, 9, 5)),
        ("9/5/26", "%d/%m/%y", datetime.date(2026, 5, 9)),
        ("Mar 4, 2026", "%b %d, %Y", datetime.date(2026, 3, 4)),
        ("04 Mar 2026", "%d %b %Y", datetime.date(2026, 3, 4)),
        ("20260314", "%Y%m%d", datetime.date(2026, 3, 14)),
    ],
)
def test_parse_date(text, fmt, expected):
    assert parse_date(text, fmt) == expected


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("31/02/2026", "%d/%m/%Y", "date '31/02/2026' does not match %d/%m/%Y"),
        # strptime reads a two-digit %Y as the year 26; the year floor rejects it.
        ("03/14/26", "%m/%d/%Y", "date '03/14/26' does not match %m/%d/%Y"),
        ("03/14/2026", "%m/%d/%y", "date '03/14/2026' does not match %m/%d/%y"),
        ("2026-03-14 lunch", "%Y-%m-%d", "date '2026-03-14 lunch' does not match %Y-%m-%d"),
        ("", "%Y-%m-%d", "empty date"),
    ],
)
def test_parse_date_rejects(text, fmt, message):
    with pytest.raises(BadValue, match=exactly(message)) as raised:
        parse_date(text, fmt)
    assert raised.value.index is None


FOUR_DIGIT_YEAR_FORMATS = [fmt for fmt in DATE_FORMAT_CANDIDATES if "%Y" in fmt]
TWO_DIGIT_YEAR_FORMATS = [fmt for fmt in DATE_FORMAT_CANDIDATES if "%y" in fmt and "%d" in fmt]
# Formats no other candidate can read differently, so a lone value is enough to infer them.
UNAMBIGUOUS_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%Y%m%d",
]
dates_1990_to_2100 = st.dates(datetime.date(1990, 1, 1), datetime.date(2100, 12, 31))
# strptime maps two-digit years 69-99 to the 1900s and 00-68 to the 2000s.
dates_1990_to_2068 = st.dates(datetime.date(1990, 1, 1), datetime.date(2068, 12, 31))


@given(fmt=st.sampled_from(FOUR_DIGIT_YEAR_FORMATS), date=dates_1990_to_2100)
def test_dates_rendered_with_a_format_parse_back(fmt, date):
    assert parse_date(date.strftime(fmt), fmt) == date


@given(fmt=st.sampled_from(UNAMBIGUOUS_FORMATS), date=dates_1990_to_2100)
def test_dates_in_unambiguous_formats_parse_back_without_a_format(fmt, date):
    assert parse_dates([date.strftime(fmt)], None) == [date]


@given(fmt=st.sampled_from(TWO_DIGIT_YEAR_FORMATS), date=dates_1990_to_2068)
def test_dates_with_two_digit_years_parse_back_within_the_strptime_century(fmt, date):
    assert parse_date(date.strftime(fmt), fmt) == date


@given(date=dates_1990_to_2068)
def test_month_only_dates_mean_the_first_of_the_month(date):
    assert parse_date(date.strftime("%b-%y"), "%b-%y") == date.replace(day=1)


# --- inferring a column's format -------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "fmt"),
    [
        (["2026-03-14", "2026-03-15"], "%Y-%m-%d"),
        (["2026-03-04T10:22:01Z"], "%Y-%m-%d"),
        (["03/14/2026", "", "9/5/2026"], "%m/%d/%Y"),
        (["14/03/2026", "  ", "5/9/2026"], "%d/%m/%Y"),
        (["03/14/26", "04/01/26"], "%m/%d/%y"),
        # Both day/month orders read 01/01/2026 the same, so the first candidate wins.
        (["01/01/2026", "02/02/2026"], "%m/%d/%Y"),
        (["Jan-24", "Feb-24"], "%b-%y"),
        # "May" is both an abbreviation and a full name; the two readings agree.
        (["May 4, 2026"], "%b %d, %Y"),
        (["04.03.2026"], "%d.%m.%Y"),
        (["20260314"], "%Y%m%d"),
    ],
)
def test_infer_date_format(column, fmt):
    assert infer_date_format(column) == fmt


@pytest.mark.parametrize(
    ("column", "message", "index"),
    [
        (
            ["", "03/04/2026", "05/06/2026"],
            "ambiguous day/month order: '03/04/2026' reads as 2026-03-04 with %m/%d/%Y"
            " and 2026-04-03 with %d/%m/%Y; set values.date_format",
            1,
        ),
        (
            ["01/01/2026", "05/06/2026"],
            "ambiguous day/month order: '05/06/2026' reads as 2026-05-06 with %m/%d/%Y"
            " and 2026-06-05 with %d/%m/%Y; set values.date_format",
            1,
        ),
        (["2026-03-14", "xx", "yy"], "no date format fits the column; e.g. 'xx'", 1),
        # Each value has a format but no one format fits both: name the value that broke it.
        (
            ["2026-03-14", "2026-03-14", "03/14/2026"],
            "no date format fits the column; e.g. '03/14/2026'",
            2,
        ),
        (["03/14/2026", "13/03/2026", "xx"], "no date format fits the column; e.g. 'xx'", 2),
        (["", " "], "no dates to infer a format from", None),
    ],
)
def test_infer_date_format_rejects(column, message, index):
    with pytest.raises(BadValue, match=exactly(message)) as raised:
        infer_date_format(column)
    assert raised.value.index == index


def _calendar_dates(days):
    return st.builds(datetime.date, st.integers(1990, 2100), st.integers(1, 12), days)


@given(dates=st.lists(_calendar_dates(st.integers(13, 28)), min_size=1, max_size=20))
def test_a_column_with_days_above_12_infers_day_first(dates):
    column = [date.strftime("%d/%m/%Y") for date in dates]
    assert infer_date_format(column) == "%d/%m/%Y"
    assert parse_dates(column, None) == dates


@given(
    dates=st.lists(
        _calendar_dates(st.integers(1, 12)).filter(lambda date: date.day != date.month),
        min_size=1,
        max_size=20,
    )
)
def test_a_column_with_every_day_at_most_12_is_ambiguous(dates):
    column = [date.strftime("%d/%m/%Y") for date in dates]
    first = dates[0]
    read_month_first = datetime.date(first.year, first.day, first.month)
    message = (
        f"ambiguous day/month order: '{column[0]}' reads as {read_month_first} with %m/%d/%Y"
        f" and {first} with %d/%m/%Y; set values.date_format"
    )
    with pytest.raises(BadValue, match=exactly(message)) as raised:
        infer_date_format(column)
    assert raised.value.index == 0


# --- parsing a column ------------------------------------------------------------------------


def test_parse_dates_with_one_format_keeps_blanks_as_none():
    assert parse_dates(["14/03/2026", "", "  ", "1/4/2026"], "%d/%m/%Y") == [
        datetime.date(2026, 3, 14),
        None,
        None,
        datetime.date(2026, 4, 1),
    ]


def test_parse_dates_infers_the_format_when_none_is_given():
    assert parse_dates(["", "03/14/2026", "9/5/2026"], None) == [
        None,
        datetime.date(2026, 3, 14),
        datetime.date(2026, 9, 5),
    ]


def test_parse_dates_of_a_blank_column_needs_no_format():
    assert parse_dates(["", " "], None) == [None, None]


def test_parse_dates_accepts_values_any_listed_format_reads_alike():
    formats = ["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"]
    assert parse_dates(["2026-03-14", "03/14/2026", "14/03/2026", "01/01/2026"], formats) == [
        datetime.date(2026, 3, 14),
        datetime.date(2026, 3, 14),
        datetime.date(2026, 3, 14),
        datetime.date(2026, 1, 1),
    ]


@pytest.mark.parametrize(
    ("values", "formats", "message", "index"),
    [
        (
            ["14/03/2026", "", "2026-03-15"],
            "%d/%m/%Y",
            "date '2026-03-15' does not match %d/%m/%Y",
            2,
        ),
        (
            ["2026-03-14", "03/04/2026"],
            ["%m/%d/%Y", "%d/%m/%Y"],
            "date '2026-03-14' does not match %m/%d/%Y or %d/%m/%Y",
            0,
        ),
        (
            ["03/14/2026", "", "03/04/2026"],
            ["%m/%d/%Y", "%d/%m/%Y"],
            "date '03/04/2026' reads differently with %m/%d/%Y and %d/%m/%Y",
            2,
        ),
        (["2026-03-14", "", "xx"], None, "no date format fits the column; e.g. 'xx'", 2),
        (
            ["", "", "03/04/2026"],
            None,
            "ambiguous day/month order: '03/04/2026' reads as 2026-03-04 with %m/%d/%Y"
            " and 2026-04-03 with %d/%m/%Y; set values.date_format",
            2,
        ),
    ],
)
def test_parse_dates_errors_name_the_offending_position(values, formats, message, index):
    with pytest.raises(BadValue, match=exactly(message)) as raised:
        parse_dates(values, formats)
    assert raised.value.index == index


def test_parse_dates_needs_at_least_one_format_in_a_list():
    with pytest.raises(ValueError, match=exactly("formats must name at least one date format")):
        parse_dates(["2026-03-14"], [])
