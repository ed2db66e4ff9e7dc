#!/usr/bin/env bash
# Install what the tests need and run them: Debian packages when missing (ffprobe checks
# renders, chromium runs the page tests), a virtualenv with requirements-dev.txt (the runtime
# plus the test toolchain), then pytest with any arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v ffprobe >/dev/null 2>&1 || packages+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if ((${#packages[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
