#!/usr/bin/env bash
# Install what the tests need and run them: Debian packages when missing (ffprobe checks
# renders, chromium runs the page tests, postgresql for the second pass), a virtualenv with
# requirements-dev.txt (the runtime plus the test toolchain), then pytest with any arguments
# given, twice: the whole suite on SQLite, then the tests that open the database (marked `db`)
# on a throwaway PostgreSQL cluster (scripts/postgres.sh). A -m given replaces that selection.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v ffprobe >/dev/null 2>&1 || packages+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
if ((${#packages[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

status=0
.venv/bin/python -m pytest "$@" || status=$?

cluster=$(mktemp -d)
trap 'bash scripts/postgres.sh stop "$cluster"' EXIT
url=$(bash scripts/postgres.sh start "$cluster")
echo "PostgreSQL pass: the tests marked db, on $url" >&2
MONEYREELS_TEST_DATABASE_URL=$url .venv/bin/python -m pytest -m "db and not sqlite" "$@" || status=$?
exit "$status"
