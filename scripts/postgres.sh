# Sourced by scripts/test: make sure PostgreSQL's server binaries (Debian's
# postgresql package) are installed for the PostgreSQL tests, which start a
# throwaway server of their own (ocppcs/backends/postgres/throwaway.py) and
# fail, rather than skip, when the binaries are missing.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing postgresql (apt-get)"
        apt-get update -qq
        # Debian's policy-rc.d keeps the package's own cluster from starting; the tests start their own.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "The PostgreSQL tests need its server: sudo apt-get install postgresql" >&2
    fi
fi
