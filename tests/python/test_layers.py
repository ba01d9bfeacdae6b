"""Dependencies run one way, CLI → steps → core, and only ingest reads below the marts.

core/ is shared by all and imports none of the others; ingest/ and exports/ are steps that know
core alone; balance/ (the command line) strings them together. The business rules live in the
dbt marts: Python outside ingest/ (which writes the raw tables) names no raw, staging or
intermediate relation, so no output can compute a rule of its own beside the one in SQL.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from core.workspace import PROJECT_ROOT

PACKAGES = ("balance", "core", "ingest", "exports")
MAY_IMPORT = {
    "core": {"core"},
    "ingest": {"core", "ingest"},
    "exports": {"core", "exports"},
    "balance": set(PACKAGES),
}
# The layers below the marts, named as a relation: `raw.files`, `intermediate.int_x`.
BELOW_MARTS = re.compile(r"\b(raw|staging|intermediate)\.[a-z_]+\b")
READS_BELOW_MARTS = {"ingest"}
SECTION_SIGN = "\N{SECTION SIGN}"  # spelled out, so that this file does not hold one


def _imported_packages(tree: ast.AST) -> set[str]:
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    return imported & set(PACKAGES)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings: prose, not queries."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _relations_below_marts(tree: ast.AST) -> set[str]:
    prose = _docstrings(tree)
    return {
        match.group(0)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
        for match in BELOW_MARTS.finditer(node.value)
    }


def layer_violations(root: Path) -> list[str]:
    """Every import against the direction, and every relation below the marts named outside
    ingest/, as `path: what`."""
    violations = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            shown = path.relative_to(root).as_posix()
            for imported in sorted(_imported_packages(tree) - MAY_IMPORT[package]):
                violations.append(f"{shown}: imports {imported}")
            if package not in READS_BELOW_MARTS:
                for relation in sorted(_relations_below_marts(tree)):
                    violations.append(f"{shown}: reads {relation}")
    return violations


def test_dependencies_run_one_way_and_only_ingest_reads_below_the_marts():
    assert layer_violations(PROJECT_ROOT) == []


def test_a_step_importing_the_command_line_or_reading_a_raw_table_is_found(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "core/clock.py").write_text("import datetime\n")
    (tmp_path / "ingest/load.py").write_text(
        "from balance.cli import main\nQUERY = 'select * from raw.files'\n"
    )
    (tmp_path / "exports/sheet.py").write_text(
        '"""Reads intermediate.int_x only in this docstring."""\n'
        "from ingest import inbox\n"
        "def rows(connection):\n"
        "    return connection.execute('select * from intermediate.int_balance_movements')\n"
    )
    (tmp_path / "core/money.py").write_text("from exports.files import replace_atomically\n")
    (tmp_path / "balance/cli.py").write_text(
        "from core import clock\nfrom ingest import load\nSQL = f'from staging.stg_x {1}'\n"
    )

    assert layer_violations(tmp_path) == [
        "balance/cli.py: reads staging.stg_x",
        "core/money.py: imports exports",
        "ingest/load.py: imports balance",
        "exports/sheet.py: imports ingest",
        "exports/sheet.py: reads intermediate.int_balance_movements",
    ]


def test_comments_point_at_the_projects_own_docs():
    """Every rule is explained in docs/rules.md, in the repository: a comment that points at a
    numbered section of some other document leaves the next reader without it."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.sql", "*.yml", "*.yaml", "*.md", "*.sh", "*.toml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pointing_elsewhere = [
        f"{path}:{number}"
        for path in tracked
        for number, line in enumerate(
            (PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines(), start=1
        )
        if SECTION_SIGN in line
    ]
    assert pointing_elsewhere == []
