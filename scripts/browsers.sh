# Sourced by scripts/test: make sure headless Chromium and its driver (Debian's
# chromium and chromium-driver packages) are installed for the browser tests
# (tests/browser), installing them with apt-get when running as root.
# The tests fail, rather than skip, when they are missing.
if ! command -v chromium >/dev/null 2>&1 || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing chromium and chromium-driver (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "The browser tests need Chromium and its driver: sudo apt-get install chromium chromium-driver" >&2
    fi
fi
