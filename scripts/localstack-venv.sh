#!/usr/bin/env bash
# Creates or reuses .venv-localstack, the venv the LocalStack test server runs from
# (tests/servers/localstack.py). It is separate from .venv because LocalStack 2026.3 needs
# Python >= 3.13 (its KMS and SNS/SQS models import warnings.deprecated, new in 3.13) while the
# project targets 3.11.
# Idempotent: a marker inside the venv records the exact package set; when it matches and the
# venv's python still runs, nothing is done (no network).
# LOCALSTACK_PYTHON=/path/to/python3.13 picks the interpreter explicitly.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-localstack"
PACKAGES=("localstack-core[runtime]==2026.3.0" "cbor2<6" "service-identity")
MARKER="$VENV/.s3safe-installed"
WANT="${PACKAGES[*]}"
MIN_MINOR=13

is_suitable() {
    "$1" -c "import sys, venv; sys.exit(not (sys.version_info[:2] >= (3, $MIN_MINOR)))" >/dev/null 2>&1
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] && is_suitable "$VENV/bin/python"; then
    exit 0
fi

find_python() {
    local candidates=() candidate version prefix
    [ -n "${LOCALSTACK_PYTHON:-}" ] && candidates+=("$LOCALSTACK_PYTHON")
    if command -v pyenv >/dev/null 2>&1; then
        for version in 3.14 3.13; do
            prefix="$(pyenv prefix "$version" 2>/dev/null | head -n1)" || true
            [ -n "$prefix" ] && candidates+=("$prefix/bin/python3")
        done
    fi
    # pyenv's shims only work where pyenv is initialised, so look at its install dir directly too
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3; do
        [ -x "$candidate" ] && candidates+=("$candidate")
    done
    candidates+=(python3.14 python3.13 python3)
    for candidate in "${candidates[@]}"; do
        candidate="$(command -v "$candidate" 2>/dev/null)" || continue
        if is_suitable "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ -x "$VENV/bin/python" ] && is_suitable "$VENV/bin/python"; then
    PY="$VENV/bin/python"   # reuse: pip below only adds what is missing
else
    PY="$(find_python)" || {
        echo "error: LocalStack 2026.3 needs Python >= 3.$MIN_MINOR with venv, and none was found" >&2
        echo "       (looked at LOCALSTACK_PYTHON, pyenv, ~/.pyenv/versions, python3.14/python3.13/python3 on PATH);" >&2
        echo "       install one (e.g. 'pyenv install 3.13') or run: LOCALSTACK_PYTHON=/path/to/python3.13 $0" >&2
        exit 1
    }
    echo "localstack venv: creating $VENV with $PY"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

rm -f "$MARKER"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
echo "localstack venv: installing ${WANT}"
# this machine's pip config names find-links folders that may not exist: drop only those warnings
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}" 2> >(grep -v "^WARNING: Location 'file:" >&2)
# A partial install must not be marked as done: prove the server's entry point imports.
"$VENV/bin/python" -c "import localstack.runtime.main, localstack.services.s3.provider, localstack.services.kms.provider" || {
    echo "error: LocalStack is installed in $VENV but does not import (see above)" >&2
    exit 1
}
printf '%s\n' "$WANT" > "$MARKER.tmp"
mv "$MARKER.tmp" "$MARKER"
echo "localstack venv: ready ($("$VENV/bin/python" -c 'import importlib.metadata as m; print("localstack-core", m.version("localstack-core"))'))"
