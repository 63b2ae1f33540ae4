#!/usr/bin/env bash
# Installs the system packages the test suite needs on a fresh Debian machine; idempotent.
set -euo pipefail

need=()
command -v make >/dev/null || need+=(make)
[ -x "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -n1)" ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "prepare-machine: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The encryption e2e tests' client: matrix-js-sdk with its Rust crypto, in Node (tests/e2e/jsclient).
jsclient="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/jsclient"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "prepare-machine: missing node/npm; install them (apt-get install nodejs npm) or run as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d "$jsclient/node_modules" ] || [ "$jsclient/package-lock.json" -nt "$jsclient/node_modules" ]; then
  (cd "$jsclient" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$jsclient/node_modules"
fi
