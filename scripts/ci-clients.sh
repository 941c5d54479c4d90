#!/usr/bin/env bash
# Install the real MCP clients and servers the acceptance suite asks (tests/acceptance/), at the
# exact versions of tests/acceptance/requirements.txt, into ${MCP_ORCH_CLIENTS_CACHE:-.cache/clients}:
#   npm packages   <cache>/npm   (npm install --prefix; binaries in <cache>/npm/node_modules/.bin)
#   PyPI packages  <cache>/pypi  (a venv; binaries in <cache>/pypi/bin)
# Idempotent: <cache>/.stamp holds the manifest's hash, and a cache that matches is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
MANIFEST=tests/acceptance/requirements.txt
CACHE="${MCP_ORCH_CLIENTS_CACHE:-.cache/clients}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
STAMP="$CACHE/.stamp"
HASH="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]]; then
    echo "ci-clients: $CACHE is current ($MANIFEST unchanged), nothing to install"
    exit 0
fi

npm_specs=()
pypi_specs=()
while read -r kind name version rest; do
    [[ -z "${kind:-}" || "$kind" == \#* ]] && continue
    if [[ -z "${version:-}" || -n "${rest:-}" && "$rest" != \#* ]]; then
        echo "ci-clients: $MANIFEST: bad line: $kind $name $version $rest" >&2
        exit 2
    fi
    case "$kind" in
        npm) npm_specs+=("$name@$version") ;;
        pypi) pypi_specs+=("$name==$version") ;;
        *) echo "ci-clients: $MANIFEST: unknown kind '$kind' (npm or pypi)" >&2; exit 2 ;;
    esac
done < "$MANIFEST"

start=$SECONDS
failed=()
rm -f "$STAMP"
if ((${#npm_specs[@]})); then
    echo "ci-clients: npm install into $CACHE/npm: ${npm_specs[*]}"
    mkdir -p "$CACHE/npm"
    [[ -f "$CACHE/npm/package.json" ]] || echo '{"private": true}' > "$CACHE/npm/package.json"
    npm_install() { npm install --prefix "$CACHE/npm" --no-audit --no-fund --loglevel=error "$@"; }
    if ! npm_install "${npm_specs[@]}"; then
        echo "ci-clients: the one npm install failed; installing the packages one by one" >&2
        for spec in "${npm_specs[@]}"; do
            npm_install "$spec" || failed+=("npm $spec")
        done
    fi
fi
# The PyPI clients need Python >= 3.12 (mistral-vibe does): $MCP_ORCH_PYPI_PYTHON, else the
# first of python3.13, python3.12, python3 that is new enough. Without one they are left out
# (written to <cache>/pypi.skipped, which their tests report as the reason they skip).
pypi_python() {
    local candidate
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    # (a pyenv shim on PATH fails unless its version is selected: try the installs directly)
    for candidate in ${MCP_ORCH_PYPI_PYTHON:-} python3.13 python3.12 \
        $(ls -d "$pyenv_root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}
rm -f "$CACHE/pypi.skipped"
if ((${#pypi_specs[@]})) && ! PYPI_PYTHON="$(pypi_python)"; then
    echo "no Python >= 3.12 found (set MCP_ORCH_PYPI_PYTHON): ${pypi_specs[*]} not installed" \
        > "$CACHE/pypi.skipped"
    echo "ci-clients: $(cat "$CACHE/pypi.skipped")" >&2
    pypi_specs=()
fi
if ((${#pypi_specs[@]})); then
    echo "ci-clients: pip install into the venv $CACHE/pypi ($PYPI_PYTHON): ${pypi_specs[*]}"
    [[ -x "$CACHE/pypi/bin/python" ]] || "$PYPI_PYTHON" -m venv "$CACHE/pypi"
    pip_install() { "$CACHE/pypi/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
    if ! pip_install "${pypi_specs[@]}"; then
        for spec in "${pypi_specs[@]}"; do
            pip_install "$spec" || failed+=("pypi $spec")
        done
    fi
fi
if ((${#failed[@]})); then
    echo "ci-clients: FAILED after $((SECONDS - start))s: ${failed[*]} (no stamp written; the others are installed)" >&2
    exit 1
fi
echo "$HASH" > "$STAMP"
echo "ci-clients: installed ${#npm_specs[@]} npm and ${#pypi_specs[@]} PyPI packages in $((SECONDS - start))s"
