#!/usr/bin/env bash
# Creates or reuses .venv-localstack: LocalStack 2026.3 (strict S3 checks) imports
# warnings.deprecated, i.e. needs Python >= 3.13, so it gets its own venv beside the project's. Idempotent: a marker records the installed set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv-localstack"
PACKAGES=("localstack-core[runtime]==2026.3.0" "cbor2<6" "service-identity")
MARKER="$VENV/.s3safe-installed"
WANT="${PACKAGES[*]}"

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
    exit 0
fi

find_python() {
    local candidate
    for candidate in "${LOCALSTACK_PYTHON:-}" python3.14 python3.13 \
        "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3 /usr/bin/python3 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && \
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

PY="$(find_python)" || {
    echo "error: LocalStack needs Python >= 3.13 and none was found (set LOCALSTACK_PYTHON=/path/to/python3.13)" >&2
    exit 1
}
echo "localstack venv: $VENV (python: $PY)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import localstack.aws.components" || { echo "error: LocalStack did not install" >&2; exit 1; }
echo "$WANT" > "$MARKER"
