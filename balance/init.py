"""`balance init`: a new workspace with what a first `balance run` needs, never over a household.

The household's CSVs get their headers, and the two required ones a row per member. Example rows
go in the workspace's README.md, not in the CSVs: the loader reads every line of those files as
data (a CSV has no comment syntax, and a `#` line would be a member or a rule named `# …`), and
no example row is harmless in every file (an opening balance starts a clean slate, a rule or an
account pattern edited halfway decides real transactions). Excel would also keep a comment line
as a row when the file is saved back.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from core.workspace import PRIVATE_FILE_MODE, Workspace, make_private_dir
from ingest.household import HOUSEHOLD_TABLES

REQUIRED_FILES = tuple(f"household/{spec.file_name}" for spec in HOUSEHOLD_TABLES
                       if spec.required_file)  # fmt: skip
# A member id is also the member's inbox folder, so it must be a plain folder name.
MEMBER_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
EXAMPLE_MEMBERS = "alex,sam"


class InitError(ValueError):
    """Why the workspace was not made; nothing was written."""


@dataclass
class InitResult:
    workspace: Workspace
    members: list[str]
    created: list[str] = field(default_factory=list)  # workspace-relative, in the order made
    kept: list[str] = field(default_factory=list)  # already there, left as they were


def household_header(file_name: str) -> str:
    """The header the loader expects, from the loader's own column list."""
    spec = next(spec for spec in HOUSEHOLD_TABLES if spec.file_name == file_name)
    return ",".join(column.name for column in spec.columns)


def parse_member_ids(text: str) -> list[str]:
    """`alex,sam` → ["alex", "sam"]; ids are stored in lower case (docs/household.md)."""
    ids = [part.strip().casefold() for part in text.split(",") if part.strip()]
    if not ids:
        raise InitError("--members: name at least one member, e.g. --members alex,sam")
    for member_id in ids:
        if not MEMBER_ID.fullmatch(member_id):
            raise InitError(
                f"--members: {member_id!r} cannot be a member id (letters, digits, '.', '-' and "
                "'_', starting with a letter or digit: it is also the member's inbox folder)"
            )
    repeated = next((m for number, m in enumerate(ids) if m in ids[:number]), None)
    if repeated:
        raise InitError(f"--members: {repeated} is named twice")
    return ids


def members_in_file(path: Path) -> list[str]:
    """The member ids of an existing members.csv, in file order (empty when none read)."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return []
    header = [cell.strip().casefold() for cell in rows[0]]
    if "member_id" not in header:
        return []
    position = header.index("member_id")
    return [row[position].strip().casefold() for row in rows[1:]
            if position < len(row) and row[position].strip()]  # fmt: skip


def init_workspace(root: Path, member_ids: list[str] | None) -> InitResult:
    """Make what is missing of a workspace in root; never overwrite a file.

    A household whose members.csv exists is kept: init then only completes what is missing
    (a split_policies.csv for those members), and refuses when nothing is.
    """
    workspace = Workspace(root)
    if root.exists() and not root.is_dir():
        raise InitError(f"{root} is a file; balance init needs a folder")
    members_file = workspace.household / "members.csv"
    if members_file.is_file():
        existing = members_in_file(members_file)
        if all((root / name).is_file() for name in REQUIRED_FILES):
            raise InitError(
                f"{root} already holds a household ({', '.join(REQUIRED_FILES)}); "
                "balance init never overwrites one"
            )
        if member_ids and member_ids != existing:
            raise InitError(
                f"household/members.csv already names {', '.join(existing) or 'no member'}; "
                "balance init never overwrites it (leave out --members to keep those)"
            )
        if not existing:
            raise InitError("household/members.csv names no member; add them, then run again")
        member_ids = existing
    elif not member_ids:
        raise InitError(
            f"name the household's members: balance init {_shown_dir(root)}"
            f"--members {EXAMPLE_MEMBERS}"
        )
    result = InitResult(workspace, member_ids)
    make_private_dir(root)
    files = {
        "household/members.csv": [f"{m},{_display_name(m)}," for m in member_ids],
        "household/split_policies.csv": [f"default,{m},1," for m in member_ids],
        **{f"household/{s.file_name}": [] for s in HOUSEHOLD_TABLES if not s.required_file},
    }
    for name, rows in files.items():
        header = household_header(Path(name).name)
        _write_new(result, name, "".join(f"{line}\n" for line in [header, *rows]))
    for folder in [*(f"csv_inbox/{m}" for m in member_ids), "rules", "decisions"]:
        if (root / folder).is_dir():
            result.kept.append(f"{folder}/")
        else:
            make_private_dir(root / folder)
            result.created.append(f"{folder}/")
    _write_new(result, "README.md", workspace_readme(member_ids))
    return result


def _display_name(member_id: str) -> str:
    return member_id.replace("_", " ").title()


def _write_new(result: InitResult, name: str, text: str) -> None:
    """Create one file, private; a file already there (even one made a moment ago) is kept."""
    path = result.workspace.root / name
    make_private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        result.kept.append(name)
        return
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    result.created.append(name)


def _shown_dir(root: Path) -> str:
    """The folder as the user types it after a command, or nothing for the current one."""
    return "" if root == Path.cwd() else f"{shlex.quote(str(root))} "


def run_command(root: Path) -> str:
    if root == Path.cwd():
        return "balance run"
    return f"balance run --workspace {shlex.quote(str(root))}"


def missing_for_a_run(workspace: Workspace) -> str | None:
    """What a folder lacks before `balance run` can work in it, and the command that makes it;
    None when nothing is missing. An empty folder and a half-made one are told apart only by
    the list."""
    missing = [name for name in REQUIRED_FILES if not (workspace.root / name).is_file()]
    if not missing:
        return None
    root = workspace.root
    members_file = workspace.household / "members.csv"
    if members_file.is_file():
        command = f"balance init {_shown_dir(root)}".rstrip()
        fix = f"write it for the members of household/members.csv with `{command}`"
    else:
        inbox = sorted(p.name for p in workspace.inbox.glob("*") if p.is_dir()
                       and MEMBER_ID.fullmatch(p.name))  # fmt: skip
        members = ",".join(inbox) or EXAMPLE_MEMBERS
        fix = f"make them with `balance init {_shown_dir(root)}--members {members}`" + (
            "" if inbox else " (your members' ids)"
        )
    return f"{root} is not a complete balance workspace: missing {', '.join(missing)}; {fix}"


def workspace_readme(member_ids: list[str]) -> str:
    inboxes = ", ".join(f"`csv_inbox/{m}/`" for m in member_ids)
    inbox_lines = "\n".join(
        f"{f'csv_inbox/{m}/':<31}{m}'s exports: banks, cards, aggregators (you)" for m in member_ids
    )
    first = member_ids[0]
    other = member_ids[1] if len(member_ids) > 1 else member_ids[0]
    return f"""# Our household's money, for `balance`

This folder is a `balance` workspace: one household's exports, settings and results. Run
`balance` commands in it (or add `--workspace <this folder>` to any command).

## What goes where

```
{inbox_lines}
household/members.csv          the members (you): fill in aliases, how banks print each name
household/split_policies.csv   how shared costs divide (you): `default`: equal shares
household/accounts.csv         optional (you): whose each account is, and its name
household/merchant_lookup.csv  optional (you): better merchant names and categories
household/sharing_rules.csv    optional (you): expenses shared, personal or split without asking
household/opening_balances.csv optional (you): who owed whom on a start date
rules/                         your own bank formats, one YAML file each (you)
decisions/                     your review answers, review_decisions.csv (balance run, you; keep it)
output/                        balance_data.xlsx (answer Queue_Review there), Parquet for Power BI
warehouse/ logs/               the DuckDB warehouse and the run logs (balance)
data/_archive/ backups/        exports moved by `balance archive`, and `balance backup` files
```

## Next

1. Put exports in {inboxes}.
2. `balance run`, then open `output/balance_data.xlsx` and answer `Queue_Review`
   (`Y` shared, `N` personal, `S` split with a `Payer share %`), save, and `balance run` again.
3. `balance status` shows the balance; `balance doctor FILE` says why an export is not read.

## Example rows

The household files hold only their header (and your members): every line in them is read as
data, so the examples are here. Copy a line, change it, and add it under the header.

```csv
# household/accounts.csv
2463,{first},Capital One Savor …2463,
,{other},Chase Sapphire,^Chase4821_

# household/merchant_lookup.csv
joes pizza,Joe's Pizza,Restaurants

# household/sharing_rules.csv
groceries_are_shared,,^Groceries$,,,,,,shared,,
big_trips_are_split,,^Travel$,,,,500,,split,,40
{other}_phone_is_personal,^Verizon$,,,,{other},,,personal,,

# household/split_policies.csv (a second policy, from a date on)
rent,{first},43,2026-01-01
rent,{other},57,2026-01-01

# household/opening_balances.csv (the rows of one date sum to 0)
2026-07-01,{first},25.00
2026-07-01,{other},-25.00
```

The project's `docs/household.md` explains every column; `docs/schemas.md` how to add a bank.
"""
