"""OFX and QFX downloads (the "download to Quicken / Money" files of most US banks) read into
the same canonical rows as CSV exports, as leniently as their data allows (docs/ofx.md).

Pure functions: the file's bytes, the household and the file's context in; its rows, or the
reasons it cannot be read, out.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from types import SimpleNamespace
from xml.sax.saxutils import unescape

from ingest.household import Household
from ingest.parse import (
    FileContext,
    ParsedFile,
    ParsedTable,
    RowIdentities,
    account_identity,
    account_last4,
    owner_of,
)
from ingest.reader import LINE_END, decode
from ingest.schemas import JOINED_CELL_SEPARATOR
from ingest.values import MAX_AMOUNT_CENTS, BadValue, date_out_of_range

OFX_SCHEMA_ID = "ofx"  # permanent: part of every OFX row's txn_id
OFX_SUFFIXES = frozenset({".ofx", ".qfx", ".qbo"})
SOURCE_KIND = "direct"  # a bank's own download: aggregator copies of its rows yield to it
STATEMENT_KINDS = {"STMTRS": "bank", "CCSTMTRS": "credit card"}
# owner_of reads a schema's static values only; an OFX file has none (no static member).
NO_STATIC_VALUES = SimpleNamespace(static={})

TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9._]*)\s*>")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
OFX_START = re.compile(r"<OFX\s*>", re.IGNORECASE)
DATE_DIGITS = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")
AMOUNT = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")


@dataclass(frozen=True)
class Transaction:
    """One <STMTTRN>: where it starts and ends in the text, and its elements' texts."""

    start: int
    end: int
    values: dict[str, str]  # TRNAMT, DTPOSTED, DTUSER, FITID, NAME, MEMO, …


@dataclass(frozen=True)
class Statement:
    kind: str  # bank | credit card
    start: int
    values: dict[str, str]  # ACCTID, BANKID, CURDEF, DTSTART, DTEND
    ledger: dict[str, str]  # LEDGERBAL's BALAMT and DTASOF
    ledger_start: int | None
    transactions: list[Transaction]


@dataclass
class StatementSummary:
    """What `balance doctor` says of one statement."""

    kind: str
    line_number: int
    account_text: str
    institution: str | None
    rows: int = 0
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    ledger_balance_cents: int | None = None
    ledger_date: dt.date | None = None


@dataclass
class OfxReading:
    """Everything read from one OFX file, for ingest and for `balance doctor`."""

    encoding: str
    version: str = "unknown"
    reader: str = "ofxtools"
    laid_out: bool = False  # several transactions share a physical line (see _LineNumbers)
    refusal: str | None = None  # why the file as a whole cannot be read
    parsed: ParsedFile = field(default_factory=ParsedFile)
    statements: list[StatementSummary] = field(default_factory=list)
    balances_stated: bool = False

    @property
    def rejection(self) -> OfxRejection | None:
        if self.refusal:
            return OfxRejection(self.refusal, [])
        if self.parsed.issues:
            count = len(self.parsed.issues)
            reason = f"{count} bad line{'s' if count > 1 else ''} (schema {OFX_SCHEMA_ID})"
            return OfxRejection(reason, list(self.parsed.issues))
        return None


@dataclass(frozen=True)
class OfxRejection:
    reason: str
    issues: list[tuple[int, str]]  # (line, reason)


def read_ofx_file(
    data: bytes, household: Household, context: FileContext
) -> tuple[ParsedTable | OfxRejection, str]:
    """A file's loadable rows, or why it cannot be loaded; and the encoding it was read with."""
    reading = read_ofx(data, household, context)
    return reading.rejection or reading.parsed.as_table(), reading.encoding


def read_ofx(
    data: bytes, household: Household, context: FileContext, use_ofxtools: bool = True
) -> OfxReading:
    """Read an OFX 1.x (SGML) or 2.x (XML) file: its statements and their transactions.

    `use_ofxtools=False` reads with the fallback tokenizer only (tests compare the two).
    """
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError as error:
        return OfxReading("unknown", refusal=f"the text cannot be decoded ({error.reason})")
    # The header's CHARSET is not trusted: banks declare USASCII or 1252 and send UTF-8, or
    # the reverse; the bytes decide (UTF-8 when they are valid UTF-8, else cp1252). NUL bytes,
    # often padding at the end of a download, are no text.
    text = text.replace("\x00", "")
    reading = OfxReading(encoding)
    body = OFX_START.search(text)
    if body is None:
        reading.refusal = "not an OFX file: it has no <OFX> element"
        return reading
    header = text[: body.start()]
    reading.version = "2.x (XML)" if "<?OFX" in header.upper() else "1.x (SGML)"
    if re.search(r"<INVSTMTRS\s*>", text, re.IGNORECASE):
        reading.refusal = (
            "it holds an investment statement (INVSTMTRS), which is not read: "
            "download the bank or card account's statement instead"
        )
        return reading
    statements, reading.reader = _statements(text, body.start(), use_ofxtools)
    if not statements:
        reading.refusal = "it holds no bank or credit card statement (no STMTRS or CCSTMTRS)"
        return reading
    lines = _LineNumbers(text, [t.start for s in statements for t in s.transactions])
    reading.laid_out = lines.laid_out
    institution = _institution(text, body.start(), statements)
    _read_rows(text, statements, institution, lines, household, context, reading)
    return reading


# --- the structure: ofxtools first, a small tokenizer where it cannot read the file ----------


def _statements(text: str, body_start: int, use_ofxtools: bool) -> tuple[list[Statement], str]:
    """The file's statements, and which reader found them.

    ofxtools reads well-formed SGML and XML into a tree. Real downloads are often malformed
    (an aggregate left unclosed, an empty <FITID> that SGML reads as the start of an aggregate),
    and ofxtools' tree builder then either refuses the file or, worse, nests the elements
    wrongly without a word. Its tree is therefore checked against the tags in the text, and
    when it refuses or the check fails the statements are read by the tokenizer below, which
    needs only that each <STMTTRN> starts a transaction and that leaf elements hold text.
    """
    reader = "the lenient tokenizer"
    if use_ofxtools:
        try:
            return _statements_by_ofxtools(text, body_start), "ofxtools"
        except (SyntaxError, ValueError, AssertionError, IndexError) as error:
            refused = str(error).splitlines()[0] if str(error) else type(error).__name__
            reader += f" (ofxtools: {refused})"
    return _statements_by_tokens(text, body_start), reader


def _is_aggregate(tag: str) -> bool:
    import ofxtools.models  # imported when an OFX file is read: see _statements_by_ofxtools
    from ofxtools.models.base import Aggregate

    model = getattr(ofxtools.models, tag, None)
    return isinstance(model, type) and issubclass(model, Aggregate)


def _statements_by_ofxtools(text: str, body_start: int) -> list[Statement]:
    # Importing ofxtools takes over a second (it builds its models' classes); every command
    # would pay it at start-up, most of them never reading an OFX file.
    from ofxtools.Parser import TreeBuilder

    builder = TreeBuilder()
    builder.feed(_upper_tags(COMMENT.sub("", text[body_start:])))
    root = builder.close()
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in root.iter():
        if len(element) and not _is_aggregate(element.tag):
            raise ValueError(f"<{element.tag}> holds elements: the nesting cannot be trusted")
        if element.tag == "STMTTRN" and parents.get(element, root).tag != "BANKTRANLIST":
            raise ValueError("a <STMTTRN> outside a <BANKTRANLIST>: an aggregate is unclosed")
    spans = _statement_spans(text, body_start)
    elements = [element for element in root.iter() if element.tag in STATEMENT_KINDS]
    if len(elements) != len(spans):
        raise ValueError("the statements in the tree are not those in the text")
    statements = []
    for element, (start, end) in zip(elements, spans, strict=True):
        transaction_spans = _transaction_spans(text, start, end)
        found = element.findall("BANKTRANLIST/STMTTRN")
        if len(found) != len(transaction_spans):
            raise ValueError("the transactions in the tree are not those in the text")
        account = element.find("BANKACCTFROM")
        if account is None:
            account = element.find("CCACCTFROM")
        values = {
            "ACCTID": _child_text(account, "ACCTID"),
            "BANKID": _child_text(account, "BANKID"),
            "CURDEF": _child_text(element, "CURDEF"),
            "DTSTART": _child_text(element, "BANKTRANLIST/DTSTART"),
            "DTEND": _child_text(element, "BANKTRANLIST/DTEND"),
        }
        ledger = element.find("LEDGERBAL")
        transactions = [
            Transaction(span_start, span_end, _transaction_values(transaction))
            for transaction, (span_start, span_end) in zip(found, transaction_spans, strict=True)
        ]
        statements.append(
            Statement(
                STATEMENT_KINDS[element.tag],
                start,
                _present(values),
                _present({tag: _child_text(ledger, tag) for tag in ("BALAMT", "DTASOF")}),
                _first_tag(text, "LEDGERBAL", start, end),
                transactions,
            )
        )
    return statements


def _upper_tags(body: str) -> str:
    """Tag names in capitals, as ofxtools expects (some banks write <stmttrn>)."""
    return TAG.sub(lambda match: f"<{match.group(1)}{match.group(2).upper()}>", body)


def _child_text(element: ET.Element | None, path: str) -> str:
    found = None if element is None else element.find(path)
    return (found.text or "").strip() if found is not None and not len(found) else ""


def _transaction_values(transaction: ET.Element) -> dict[str, str]:
    values = {child.tag: (child.text or "").strip() for child in transaction if not len(child)}
    if not values.get("NAME"):
        values["NAME"] = _child_text(transaction, "PAYEE/NAME")
    return _present(values)


def _present(values: dict[str, str]) -> dict[str, str]:
    return {tag: value for tag, value in values.items() if value}


def _statements_by_tokens(text: str, body_start: int) -> list[Statement]:
    statements = []
    for start, end in _statement_spans(text, body_start):
        spans = _transaction_spans(text, start, end)
        transactions = [Transaction(s, e, _leaf_values(text, s, e)) for s, e in spans]
        # The statement's own elements: those outside its transactions (a transfer's
        # <BANKACCTTO> inside one names the other account).
        outside = []
        cursor = start
        for span_start, span_end in spans:
            outside.append((cursor, span_start))
            cursor = span_end
        outside.append((cursor, end))
        values: dict[str, str] = {}
        for piece_start, piece_end in outside:
            for tag, value in _leaf_values(text, piece_start, piece_end).items():
                values.setdefault(tag, value)
        ledger_start = _first_tag(text, "LEDGERBAL", cursor, end)
        ledger = _leaf_values(text, ledger_start, end) if ledger_start is not None else {}
        wanted = ("ACCTID", "BANKID", "CURDEF", "DTSTART", "DTEND")
        statements.append(
            Statement(
                STATEMENT_KINDS[_tag_name(text, start)],
                start,
                {tag: values[tag] for tag in wanted if tag in values},
                {tag: ledger[tag] for tag in ("BALAMT", "DTASOF") if tag in ledger},
                ledger_start,
                transactions,
            )
        )
    return statements


def _tag_name(text: str, start: int) -> str:
    return TAG.match(text, start).group(2).upper()


def _leaf_values(text: str, start: int, end: int) -> dict[str, str]:
    """The first text of each element that holds text between start and end."""
    values: dict[str, str] = {}
    for match in TAG.finditer(text, start, end):
        if match.group(1):
            continue
        following = text.find("<", match.end(), end)
        value = text[match.end() : end if following < 0 else following].strip()
        if value:
            values.setdefault(match.group(2).upper(), value)
    return values


def _first_tag(text: str, name: str, start: int, end: int) -> int | None:
    match = re.compile(rf"<{name}\s*>", re.IGNORECASE).search(text, start, end)
    return None if match is None else match.start()


def _statement_spans(text: str, body_start: int) -> list[tuple[int, int]]:
    """Each statement from its start tag to its end tag, or to the next statement when its
    end tag is missing."""
    starts = [
        match
        for match in TAG.finditer(text, body_start)
        if not match.group(1) and match.group(2).upper() in STATEMENT_KINDS
    ]
    spans = []
    for index, match in enumerate(starts):
        limit = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        name = match.group(2)
        closing = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(text, match.end(), limit)
        spans.append((match.start(), closing.end() if closing else limit))
    return spans


def _transaction_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Each <STMTTRN> from its start tag to its end tag, or, left unclosed, to the next
    transaction or the end of the transaction list."""
    tags = [
        match
        for match in TAG.finditer(text, start, end)
        if match.group(2).upper() in ("STMTTRN", "BANKTRANLIST")
    ]
    spans = []
    for index, match in enumerate(tags):
        if match.group(1) or match.group(2).upper() != "STMTTRN":
            continue
        following = tags[index + 1] if index + 1 < len(tags) else None
        if following is None:
            spans.append((match.start(), end))
        elif following.group(1) and following.group(2).upper() == "STMTTRN":
            spans.append((match.start(), following.end()))
        else:
            spans.append((match.start(), following.start()))
    return spans


def _institution(text: str, body_start: int, statements: list[Statement]) -> str | None:
    """The <ORG> of the file's sign-on (the bank's name), else the first BANKID."""
    sign_on_end = statements[0].start
    org = _leaf_values(text, body_start, sign_on_end).get("ORG")
    if org:
        return _text(org)
    bank_id = next((s.values["BANKID"] for s in statements if "BANKID" in s.values), None)
    return _text(bank_id) if bank_id else None


# --- line numbers -----------------------------------------------------------------------------


class _LineNumbers:
    """The 1-based physical line where an offset of the text lies.

    A file written on one line would give all its transactions line 1, and a line names one
    row of a file. So when two transactions start on one physical line, lines are counted as
    the file reads laid out with each element on a line of its own, as OFX 1.x is written.
    """

    def __init__(self, text: str, transaction_starts: list[int]):
        self.starts = [0, *(match.end() for match in LINE_END.finditer(text))]
        physical = [self._line(start) for start in transaction_starts]
        self.laid_out = len(set(physical)) < len(physical)
        if self.laid_out:
            breaks = {
                match.start()
                for match in TAG.finditer(text)
                if text[self.starts[self._line(match.start()) - 1] : match.start()].strip()
            }
            self.starts = sorted({*self.starts, *breaks})

    def _line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def __call__(self, offset: int) -> int:
        return self._line(offset)


# --- values -----------------------------------------------------------------------------------


def _text(value: str) -> str:
    """An element's text with XML's entities read (&amp; is &); an SGML file's bare & stays."""
    return unescape(value.strip(), {"&quot;": '"', "&apos;": "'"})


def amount_cents(tag: str, text: str | None) -> int:
    """Exact cents of an OFX amount, signed as written: `-12.34`, `+5`, decimal commas
    (`-12,34`) and, when both marks appear, the last one as the decimal mark (`1.234,56`)."""
    if not text:
        raise BadValue(f"{tag} is missing")
    normalised = text.strip().replace(" ", "")
    if "," in normalised and "." in normalised:
        thousands = "," if normalised.rfind(",") < normalised.rfind(".") else "."
        normalised = normalised.replace(thousands, "")
    match = AMOUNT.fullmatch(normalised.replace(",", "."))
    if match is None or not (match.group(2) or match.group(3)):
        raise BadValue(f"{tag} {text!r} is not an amount")
    fraction = match.group(3) or ""
    if len(fraction.rstrip("0")) > 2:
        raise BadValue(f"{tag} {text!r} is not a whole number of cents")
    cents = int(match.group(2) or "0") * 100 + int((fraction + "00")[:2])
    if cents > MAX_AMOUNT_CENTS:
        raise BadValue(f"{tag} {text!r} is too large: at most {MAX_AMOUNT_CENTS // 100:,}.99")
    return -cents if match.group(1) == "-" else cents


def ofx_date(tag: str, text: str | None) -> dt.date | None:
    """The date of an OFX datetime (YYYYMMDD, then any time and zone): only the date is kept,
    as written, so an impossible time (minute 82) or zone does not move or refuse it."""
    if not text:
        return None
    match = DATE_DIGITS.match(text)
    try:
        if match is None:
            raise ValueError
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadValue(f"{tag} {text!r} is not a date (YYYYMMDD…)") from None


# --- rows -------------------------------------------------------------------------------------


def _description(values: dict[str, str]) -> str:
    """NAME, then MEMO when it says more (banks cut NAME at 32 characters)."""
    name, memo = _text(values.get("NAME", "")), _text(values.get("MEMO", ""))
    if memo and memo != name:
        return JOINED_CELL_SEPARATOR.join(part for part in (name, memo) if part)
    return name


def _read_rows(
    text: str,
    statements: list[Statement],
    institution: str | None,
    lines: _LineNumbers,
    household: Household,
    context: FileContext,
    reading: OfxReading,
) -> None:
    parsed = reading.parsed
    run_date = context.loaded_at.date()
    row_ids = RowIdentities(OFX_SCHEMA_ID, context.inbox_member_id)
    identities = {account_identity(_text(s.values.get("ACCTID", "")), "") for s in statements}
    # The statement check compares each stated balance with the previous one plus the amounts
    # since, across the whole file: that holds for statements of one account only.
    reading.balances_stated = len(identities) == 1
    for statement in statements:
        account_text = _text(statement.values.get("ACCTID", ""))
        summary = StatementSummary(
            statement.kind, lines(statement.start), account_text, institution
        )
        reading.statements.append(summary)
        parsed.rows_read += len(statement.transactions)
        try:
            owner = owner_of(NO_STATIC_VALUES, household, context, "", account_text)
        except BadValue as error:
            parsed.issues.append((summary.line_number, str(error)))
            continue
        if statement.ledger_start is not None and "BALAMT" in statement.ledger:
            try:
                summary.ledger_balance_cents = amount_cents("BALAMT", statement.ledger["BALAMT"])
                summary.ledger_date = ofx_date("DTASOF", statement.ledger.get("DTASOF"))
            except BadValue as error:
                parsed.issues.append((lines(statement.ledger_start), f"LEDGERBAL: {error}"))
        statement_rows = []
        for transaction in statement.transactions:
            line_number = lines(transaction.start)
            values = transaction.values
            try:
                cents = amount_cents("TRNAMT", values.get("TRNAMT"))
                posted_date = ofx_date("DTPOSTED", values.get("DTPOSTED"))
                date = ofx_date("DTUSER", values.get("DTUSER")) or posted_date
                if date is None:
                    raise BadValue("no date: DTPOSTED is missing")
                impossible = date_out_of_range(date, run_date) or date_out_of_range(
                    posted_date or date, run_date
                )
                if impossible:
                    raise BadValue(impossible)
            except BadValue as error:
                parsed.issues.append((line_number, str(error)))
                continue
            description = _description(values)
            reference = _text(values.get("FITID", ""))
            txn_id, legacy_txn_id, occurrence = row_ids.next(
                account_text, date, cents, description, reference
            )
            row = {
                "txn_id": txn_id,
                "legacy_txn_id": legacy_txn_id,
                "file_sha256": context.file_sha256,
                "file_path": context.file_path,
                "line_number": line_number,
                "raw_line": text[transaction.start : transaction.end].rstrip(),
                "schema_id": OFX_SCHEMA_ID,
                "source_kind": SOURCE_KIND,
                "inbox_member_id": context.inbox_member_id,
                "owner_member_id": owner,
                "member_text": None,
                "purchased_by": None,
                "institution": institution,
                "account_text": account_text,
                "account_last4": account_last4(account_text),
                "transaction_date": date,
                "posted_date": posted_date,
                "description": description,
                "merchant_text": None,
                "category_text": None,
                "reference": reference or None,
                "note": None,
                "counterparty_text": None,
                "status_text": None,
                "amount_cents": cents,
                "balance_cents": None,
                "shared_amount_cents": None,
                "static_sharing": None,
                "static_policy": None,
                "occurrence_index": occurrence,
                "loaded_at": context.loaded_at,
            }
            statement_rows.append(row)
            summary.rows += 1
            summary.first_date = min(summary.first_date or date, date)
            summary.last_date = max(summary.last_date or date, date)
        if statement_rows and reading.balances_stated:
            # LEDGERBAL is the balance after the statement's last transaction.
            statement_rows[-1]["balance_cents"] = summary.ledger_balance_cents
        parsed.rows += statement_rows
    parsed.issues.sort()
