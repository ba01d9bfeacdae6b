#!/usr/bin/env bash
# Install what balance needs into .venv: uv (from PyPI, into .tools/ when it is not on PATH),
# then the locked packages. Safe to re-run; needs only python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_COMPILE_BYTECODE=1 DO_NOT_TRACK=1

if command -v uv >/dev/null 2>&1; then
    uv_command=uv
else
    if [ ! -x .tools/bin/uv ]; then
        echo "Installing uv into .tools/ ..." >&2
        python3 -m venv .tools
        .tools/bin/pip install --quiet --disable-pip-version-check uv
    fi
    uv_command=.tools/bin/uv
fi
"$uv_command" sync --frozen --quiet "$@"
