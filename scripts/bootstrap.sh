#!/bin/sh
# Create .venv beside this repository and install edgetui into it, once.
# The install is redone only when pyproject.toml changes, so later runs start at once.
# Usage: scripts/bootstrap.sh [EXTRAS], e.g. "test".
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
venv="$top/.venv"
extras="${1:-}"
stamp="$venv/.edgetui-installed${extras:+-$extras}"

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "edgetui needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    python=$(find_python)
    echo "Creating $venv with $python ..." >&2
    "$python" -m venv "$venv"
fi

wanted=$(sha256sum "$top/pyproject.toml" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "Installing edgetui${extras:+ with [$extras]} into $venv (first run only) ..." >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    target="$top"
    [ -z "$extras" ] || target="$top[$extras]"
    "$venv/bin/python" -m pip install --quiet -e "$target" >&2
    echo "$wanted" > "$stamp"
fi
