#!/usr/bin/env bash
# Install what tests/test_browser.py needs beyond the Python test extra: Debian's chromium at
# /usr/bin/chromium (Playwright drives it through executable_path, so no browser download).
# Does nothing when chromium is already there. CI calls it before the tests (.ci/run), so the
# browser test runs there; it fails loudly when it cannot install (no apt-get, no root/sudo).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "ci-browser-deps: /usr/bin/chromium is present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-browser-deps: /usr/bin/chromium is missing and there is no apt-get here;" \
        "install Chromium at /usr/bin/chromium to run tests/test_browser.py" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "ci-browser-deps: installing chromium needs root or passwordless sudo" >&2
        exit 1
    fi
fi

echo "ci-browser-deps: installing Debian chromium"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
/usr/bin/chromium --version || true
