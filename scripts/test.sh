#!/usr/bin/env bash
# The project's test command (README, second command; .ci/run calls it).
# Installs what the tests need on a fresh Debian machine, then runs every test.
# ZooKeeper comes from Debian's `zookeeper` package (Java is already present);
# tests that need it start their own ensemble on free loopback ports. TLS
# tests make their certificates with Debian's `openssl`; end-to-end tests
# read HTTPS endpoints with `curl`. The v1 API tests run pymesos 0.3.15
# (PyPI) from a virtualenv in target/pymesos-venv, made here (see
# scripts/pymesos-venv.sh). The web UI's browser test drives Debian's
# `chromium` through `chromium-driver` with selenium (PyPI) from a
# virtualenv in target/webui-venv (scripts/webui-venv.sh). With CI=true a
# missing ZooKeeper, openssl, pymesos, chromium or selenium fails those
# tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -f /usr/share/java/zookeeper.jar ] || need_apt+=(zookeeper)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v curl >/dev/null || need_apt+=(curl)
# pymesos's http-parser dependency is a C extension built here.
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
[ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] || need_apt+=(python3-dev)
command -v cc >/dev/null || need_apt+=(gcc)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (Debian packages)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

bash scripts/pymesos-venv.sh target/pymesos-venv
export RMESOS_PYMESOS_PYTHON="$PWD/target/pymesos-venv/bin/python"
bash scripts/webui-venv.sh target/webui-venv
export RMESOS_WEBUI_PYTHON="$PWD/target/webui-venv/bin/python"

cargo fmt --all --check
cargo test --workspace --locked
