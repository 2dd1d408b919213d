# Sourced by scripts/run and scripts/test: make .venv (Python 3.11+) and install ocppcs into it.
# Usage: . scripts/venv.sh EXTRAS   (e.g. "test" or "")
set -euo pipefail
extras="${1:-}"
python=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "ocppcs needs Python 3.11 or newer (python3.11 or python3 on PATH)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv 2>/dev/null; then
        # Debian ships venv separately.
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        else
            echo "Install python3-venv first: sudo apt-get install python3-venv" >&2
            exit 1
        fi
        "$python" -m venv .venv
    fi
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# Install only when needed: the editable install picks up source edits by
# itself, so pip runs again only when the packaging files, the extras, the
# folder or the Python change (a stamp per extras set holds their hash), or
# when ocppcs is not importable from .venv. "test" includes the base install.
wanted="$({ cat setup.cfg pyproject.toml setup.py 2>/dev/null; pwd; .venv/bin/python -V; } |
    sha256sum | cut -d" " -f1)"
stamp=".venv/ocppcs-installed-${extras:-base}"
installed() {
    [ "$(cat "$1" 2>/dev/null)" = "$wanted" ] &&
        .venv/bin/python -I -c "import ocppcs, twisted.plugins.ocppcs_plugin" 2>/dev/null
}
if ! installed "$stamp" && ! { [ -z "$extras" ] && installed .venv/ocppcs-installed-test; }; then
    rm -f .venv/ocppcs-installed-*
    log="$(mktemp)"
    # compat mode: twistd finds twisted/plugins/ocppcs_plugin.py (a default editable install hides it).
    if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" \
        --config-settings editable_mode=compat >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "Installing ocppcs into .venv failed" >&2
        exit 1
    fi
    grep -v "is ignored: it is neither" "$log" || true
    rm -f "$log"
    echo "$wanted" >"$stamp"
fi
