"""What the review workbook and the review journal agree on: the sheet the export writes its
questions into, the answer columns the user fills in, and what each answer means. The export
writes the questions (exports/workbook.py); ingest reads the answers back into the journal
(ingest/answers.py)."""

from __future__ import annotations

QUEUE_SHEET = "Queue_Review"
EXPORT_RECORD_SHEET = "_Export"  # hidden: what the export wrote, so the import sees only changes
ANSWER_HEADERS = ("Shared?", "Payer share %", "Policy", "Note")

# The letters of the Shared? drop-down, in its order, and the sharing the journal records.
ANSWER_LETTERS = {"Y": "shared", "N": "personal", "S": "split", "D": "duplicate"}
# Typed in full, yes and no are read as their letters.
ANSWER_WORDS = {"yes": "shared", "no": "personal"}
