#!/usr/bin/env bash
# Everything `npm start` and `npm test` need, from a fresh clone on a fresh Debian machine:
# system packages (apt, only those missing), pnpm, dependencies, the mediasoup worker, database
# migrations and the web build. Safe to run again; fast when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
step() { echo "[setup] $*" >&2; }

# Runtime: Chromium (browser tests), FFmpeg (recorder), coturn (TURN, and its client for tests), Caddy
# (the TLS proxy; certutil trusts its test CA in Chromium), Prometheus (its promtool too: the monitoring
# tests), the worker's shared libraries.
packages=(chromium ffmpeg coturn caddy prometheus libnss3-tools nftables libssl3 libuv1 libsrtp2-1 libusrsctp2 libabsl20220623 ca-certificates)
worker_cached() { [ -n "${MEDIASOUP_WORKER_BIN:-}" ] || [ -n "$(ls "${PODLIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/podlive}"/mediasoup-worker-*/mediasoup-worker 2>/dev/null)" ]; }
# Build tools, only while no worker binary is cached (see deploy/mediasoup/worker.sh).
worker_cached || packages+=(meson ninja-build pkg-config g++ libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v pnpm >/dev/null 2>&1; then
  step "installing pnpm"
  npm install -g pnpm@12 >&2
fi

# pnpm checks the lockfile against node_modules itself and returns at once when they agree.
step "dependencies"
pnpm install --frozen-lockfile --reporter=silent >&2

step "mediasoup worker"
MEDIASOUP_WORKER_BIN=$(bash deploy/mediasoup/worker.sh)
export MEDIASOUP_WORKER_BIN

step "database migrations"
LOG_LEVEL=${LOG_LEVEL:-warn} pnpm --silent --filter @podlive/db migrate >&2

# Rebuild the web app only when its inputs changed since the last build.
stamp=web/build/.inputs
inputs=$(find web/src web/static shared/src web/svelte.config.js web/vite.config.ts web/package.json pnpm-lock.yaml -type f -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
if [ ! -f web/build/index.js ] || [ "$(cat "$stamp" 2>/dev/null)" != "$inputs" ]; then
  step "building the web app"
  pnpm --silent --filter @podlive/web build >/dev/null
  echo "$inputs" > "$stamp"
fi
step "ready"
