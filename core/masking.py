"""Output-side masking: digit runs of 8 or more show as ****1234 in every output.

File paths and transaction ids are names, not numbers a reader should not see: a download
called `Chase4821_Activity20260301.CSV` and the id `72161150b91754a7` are shown whole, or a
user could not find the file or paste the id into `balance explain`. Text is looked at word by
word; a word that is an id or a path (give or take the brackets and punctuation around it) is
kept whole. The patterns below are read by Python and by DuckDB (RE2) alike.
"""

from __future__ import annotations

import re

LONG_DIGIT_RUN = r"\d{4,}(\d{4})"
SQL_LONG_DIGIT_RUN = r"'\d{4,}(\d{4})', '****\1', 'g'"
WORD_AROUND = "()[]\"',.:;"  # stripped from a word's ends before it is recognised
TRANSACTION_ID = "[0-9a-f]{16}"  # and at least one letter: sixteen digits may be a card
WORKSPACE_PATH = "^(csv_inbox|data|output|household|rules|decisions|logs|backups)/"
FILE_NAME = r"^.+\.(csv|tsv|txt|ofx|qfx|qbo|xlsx|xls|pdf|parquet|json|yaml|yml|log)$"
# What may start a word kept whole: sixteen hex characters, a folder, a file's extension.
MAYBE_KEPT = r"([0-9a-f]{16}|/|\.[a-z]{2,7}\b)"
# Text columns whose values are names (ids, paths), never masked.
UNMASKED_COLUMN_SUFFIXES = ("_id", "_sha256", "_path")
# Text as the bank wrote it: no id or path of balance's is in it, so it is masked whole, in
# one pass (a million raw lines, most with a long digit run, would cost seconds by words).
BANK_TEXT_COLUMNS = ("raw_line", "description", "note")

_LONG_DIGIT_RUN = re.compile(LONG_DIGIT_RUN)
_TRANSACTION_ID = re.compile(TRANSACTION_ID)
_NAMED = re.compile(f"{WORKSPACE_PATH}|{FILE_NAME}", re.IGNORECASE)
_WHITESPACE = re.compile(r"(\s+)")


def _is_kept_whole(word: str) -> bool:
    core = word.strip(WORD_AROUND)
    is_id = _TRANSACTION_ID.fullmatch(core) is not None and not core.isdigit()
    return is_id or _NAMED.search(core) is not None


def mask_digit_runs(text: str) -> str:
    """The text with each long digit run masked, except in words that are ids or paths."""
    return "".join(
        word if _is_kept_whole(word) else _LONG_DIGIT_RUN.sub(r"****\1", word)
        for word in _WHITESPACE.split(text)
    )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def masked_sql(column: str) -> str:
    """SQL of a text column masked as mask_digit_runs masks text (words split at spaces). Only
    values holding a long digit run are split into words: most hold none."""
    core = f"trim(word, {_sql_text(WORD_AROUND)})"
    kept = (
        f"(regexp_full_match({core}, '{TRANSACTION_ID}') and regexp_matches({core}, '[a-f]'))"
        f" or regexp_matches({core}, {_sql_text(WORKSPACE_PATH + '|' + FILE_NAME)}, 'i')"
    )
    by_word = (
        f"array_to_string(list_transform(string_split({column}, ' '), word -> case when {kept}"
        f" then word else regexp_replace(word, {SQL_LONG_DIGIT_RUN}) end), ' ')"
    )
    # Most values hold no long digit run and stay as they are; of the rest, only those with
    # something that may be an id or a path are looked at word by word.
    return (
        f"case when not regexp_matches({column}, '\\d{{8}}') then {column}"
        f" when regexp_matches({column}, {_sql_text(MAYBE_KEPT)}, 'i') then {by_word}"
        f" else regexp_replace({column}, {SQL_LONG_DIGIT_RUN}) end"
    )


def masked_select(connection, relation: str) -> str:
    """`select` of every column of relation, with text columns masked; ids and paths stay."""
    columns = connection.execute(f"describe {relation}").fetchall()
    expressions = []
    for name, column_type, *_ in columns:
        quoted = f'"{name}"'
        if column_type != "VARCHAR" or name.endswith(UNMASKED_COLUMN_SUFFIXES):
            expressions.append(quoted)
        elif name in BANK_TEXT_COLUMNS:
            expressions.append(f"regexp_replace({quoted}, {SQL_LONG_DIGIT_RUN}) as {quoted}")
        else:
            expressions.append(f"{masked_sql(quoted)} as {quoted}")
    return f"select {', '.join(expressions)} from {relation}"
