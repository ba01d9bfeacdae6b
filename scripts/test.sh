#!/usr/bin/env bash
# Install balance with its development tools, lint Python and SQL, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== sqlfluff" && .venv/bin/sqlfluff lint models macros tests/invariants
command -v soffice >/dev/null || { sudo=$([ "$(id -u)" -eq 0 ] || echo sudo); $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui; }
# Two workers, a test file each: most of a test's time is a dbt build, which keeps one core busy.
echo "== pytest" && .venv/bin/pytest -n 2 --dist loadfile "$@"
