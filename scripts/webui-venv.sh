#!/usr/bin/env bash
# Makes a virtualenv at $1 with selenium (PyPI) for the web UI's browser
# test (tests/tests/webui_browser.rs, which drives Debian's `chromium`
# through `chromium-driver`); does nothing if it already has it. Pinned to
# 4.38.0: newer selenium requires a certifi release newer than some mirrors
# carry.
set -euo pipefail
venv=$(realpath -m "${1:?usage: webui-venv.sh DIR}")
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  exit 0
fi
echo "making $venv: selenium 4.38.0 (PyPI)"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip --quiet --disable-pip-version-check install selenium==4.38.0
"$venv/bin/python" -c 'import selenium; print("selenium", selenium.__version__)'
