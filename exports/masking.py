"""Output-side masking (§9.24): digit runs of 8 or more show as ****1234 in every output."""

from __future__ import annotations

import re

LONG_DIGIT_RUN = re.compile(r"\d{4,}(\d{4})")
SQL_LONG_DIGIT_RUN = r"'\d{4,}(\d{4})', '****\1', 'g'"


def mask_digit_runs(text: str) -> str:
    return LONG_DIGIT_RUN.sub(r"****\1", text)


def masked_select(connection, relation: str) -> str:
    """`select` of every column of relation, with text columns masked; ids stay as they are."""
    columns = connection.execute(f"describe {relation}").fetchall()
    expressions = []
    for name, column_type, *_ in columns:
        is_identifier = name.endswith(("_id", "_sha256"))
        if column_type == "VARCHAR" and not is_identifier:
            expressions.append(f'regexp_replace("{name}", {SQL_LONG_DIGIT_RUN}) as "{name}"')
        else:
            expressions.append(f'"{name}"')
    return f"select {', '.join(expressions)} from {relation}"
