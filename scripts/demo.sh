#!/usr/bin/env bash
# Install balance, run the bundled demo household and print its balance.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-dev
.venv/bin/balance demo
