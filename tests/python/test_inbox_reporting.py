"""Every file in the inbox is read or reported: files of other kinds, links (never followed)
and text that would drive a terminal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.inbox import visible_controls

from support import invoke, make_workspace, put_in_inbox, query

CAPITAL_ONE = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
CARD_ROW = "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "household")


def ingest_output(workspace: Path) -> str:
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return result.output


def attempts(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select file_path, status, reason from raw.file_attempts order by file_path, attempted_at",
    )


def test_files_of_other_kinds_are_reported_with_what_to_do(workspace):
    put_in_inbox(workspace, "alex", "card.csv", (CAPITAL_ONE + CARD_ROW).encode())
    put_in_inbox(workspace, "alex", "statement.pdf", b"%PDF-1.7\n")
    put_in_inbox(workspace, "alex", "budget.xlsx", b"PK\x03\x04")
    put_in_inbox(workspace, "sam", "notes", b"remember the milk\n")
    # Hidden files and Excel's lock files stay silent.
    put_in_inbox(workspace, "alex", ".DS_Store", b"\x00\x01")
    put_in_inbox(workspace, "alex", "~$budget.xlsx", b"lock")

    output = ingest_output(workspace)

    assert "1 loaded, 3 rejected, 0 unchanged" in output
    assert output.splitlines()[-3:] == [
        "rejected csv_inbox/alex/budget.xlsx: an Excel workbook: save it as CSV",
        "rejected csv_inbox/alex/statement.pdf: not a CSV or OFX export (a PDF statement: "
        "download the CSV or OFX export instead)",
        "rejected csv_inbox/sam/notes: not a CSV or OFX export",
    ]
    assert [row for row in attempts(workspace) if row[1] == "rejected"] == [
        ("csv_inbox/alex/budget.xlsx", "rejected", "an Excel workbook: save it as CSV"),
        (
            "csv_inbox/alex/statement.pdf",
            "rejected",
            "not a CSV or OFX export (a PDF statement: download the CSV or OFX export instead)",
        ),
        ("csv_inbox/sam/notes", "rejected", "not a CSV or OFX export"),
    ]
    assert "3 rejected, 1 unchanged" in ingest_output(workspace)


def test_links_are_reported_and_never_read(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "card.csv").write_text(CAPITAL_ONE + CARD_ROW)
    secret = outside / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")
    inbox = workspace / "csv_inbox"
    (inbox / "alex").mkdir(parents=True)
    os.symlink(secret, inbox / "alex/secret.csv")
    os.symlink(outside, inbox / "sam")

    output = ingest_output(workspace)

    assert output.splitlines()[-3:] == [
        "0 loaded, 2 rejected, 0 unchanged",
        "rejected csv_inbox/alex/secret.csv: a symbolic link: links are not followed; copy "
        "the file itself into the inbox",
        "rejected csv_inbox/sam: a symbolic link to a folder: links are not followed; copy "
        "its files into the inbox",
    ]
    assert "hunter2" not in output and "password" not in output
    assert query(workspace, "select count(*) from raw.transactions") == [(0,)]
    assert [path for path, _, _ in attempts(workspace)] == [
        "csv_inbox/alex/secret.csv",
        "csv_inbox/sam",
    ]


def test_a_pipe_and_a_later_link_in_the_inbox_are_reported_and_never_opened(workspace):
    """Reading a named pipe would wait for a writer forever."""
    (workspace / "csv_inbox/alex").mkdir(parents=True)
    os.mkfifo(workspace / "csv_inbox/alex/feed.csv")

    output = ingest_output(workspace)

    assert output.splitlines()[-2:] == [
        "0 loaded, 1 rejected, 0 unchanged",
        "rejected csv_inbox/alex/feed.csv: not a regular file",
    ]
    # The run's inputs fingerprint reads every inbox file: not this one.
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    assert "rejected csv_inbox/alex/feed.csv: not a regular file" in result.output
    # A link added later is an input too: the next run reads the inbox again and reports it.
    os.symlink("/etc/passwd", workspace / "csv_inbox/alex/passwd.csv")
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    assert (
        "rejected csv_inbox/alex/passwd.csv: a symbolic link: links are not followed; copy the"
        " file itself into the inbox"
    ) in result.output.splitlines()


def test_a_header_with_an_escape_sequence_is_shown_escaped(workspace):
    put_in_inbox(workspace, "alex", "odd.csv", b"Date\x1b[2J,Amount\x07\n2026-03-01,1.00\n")

    output = ingest_output(workspace)

    reason = "no schema matches; none shares a header with line 1 (Date\\x1b[2J, Amount\\x07)"
    assert f"rejected csv_inbox/alex/odd.csv: {reason}" in output.splitlines()
    assert "\x1b" not in output and "\x07" not in output
    assert attempts(workspace) == [("csv_inbox/alex/odd.csv", "rejected", reason)]


def test_doctor_says_why_a_pdf_is_not_read(workspace):
    path = put_in_inbox(workspace, "alex", "statement.pdf", b"%PDF-1.7\n")

    result = invoke("doctor", "--workspace", str(workspace), str(path))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "file       csv_inbox/alex/statement.pdf",
        "verdict    not loadable: not a CSV or OFX export (a PDF statement: download the CSV or "
        "OFX export instead)",
        "balance: this file would be rejected (see the verdict above)",
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain\ttext", "plain\ttext"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("line\nbreak\r", "line\\x0abreak\\x0d"),
        ("nul\x00 del\x7f csi\x9b", "nul\\x00 del\\x7f csi\\x9b"),
        ("café €", "café €"),
    ],
)
def test_control_characters_are_shown_as_escapes(text, shown):
    assert visible_controls(text) == shown
