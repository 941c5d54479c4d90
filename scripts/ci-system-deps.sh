#!/usr/bin/env bash
# Install the Debian packages the tests need beyond Python and npm, each only when missing:
#   chromium         /usr/bin/chromium: tests/test_browser.py (Playwright drives it through
#                    executable_path, so no browser download)
#   docker-registry  /usr/bin/docker-registry: the CNCF distribution registry the OCI tests
#                    start on loopback (tests/test_registry_resolve.py resolves image digests)
# Does nothing when both are there. `make test` calls it first (so .ci/run does too); it fails
# loudly when it has to install and cannot (no apt-get, no root or passwordless sudo).
set -euo pipefail

want=()
[ -x /usr/bin/chromium ] || want+=(chromium)
[ -x /usr/bin/docker-registry ] || want+=(docker-registry)

if [ ${#want[@]} -eq 0 ]; then
    echo "ci-system-deps: /usr/bin/chromium and /usr/bin/docker-registry are present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-system-deps: missing ${want[*]} and there is no apt-get here;" \
        "install them (Debian packages chromium, docker-registry) to run the browser and OCI tests" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "ci-system-deps: installing ${want[*]} needs root or passwordless sudo" >&2
        exit 1
    fi
fi

echo "ci-system-deps: installing Debian ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# --no-install-recommends: docker-registry recommends nothing the tests need; no service is
# started for it here (the tests start their own on a free loopback port)
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
test -x /usr/bin/chromium
test -x /usr/bin/docker-registry
/usr/bin/chromium --version || true
