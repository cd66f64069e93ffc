#!/usr/bin/env bash
# Prints the path of a mediasoup-worker binary matching the mediasoup package installed in sfu/,
# providing one if needed. In order:
#   1. $MEDIASOUP_WORKER_BIN, when set (must be executable);
#   2. the cache: ${PODLIVE_CACHE_DIR:-~/.cache/podlive}/mediasoup-worker-<version>/mediasoup-worker;
#   3. mediasoup's official prebuilt binary for this platform (needs internet; 20 s limit; set
#      PODLIVE_SKIP_PREBUILT=1 to go straight to 4);
#   4. a build of the package's worker sources against Debian's own libraries (offline; ~6 min on
#      2 cores), following ../../../shared/notes/ENVIRONMENT.md. Nothing inside node_modules is
#      edited: the sources are copied into the cache first, and meson's subproject wraps (which
#      would download openssl, libuv, ...) are replaced there by stubs that declare system libraries.
# Progress goes to stderr; stdout carries only the binary's path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
log() { echo "[mediasoup-worker] $*" >&2; }

if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  [ -x "$MEDIASOUP_WORKER_BIN" ] || { log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file"; exit 1; }
  echo "$MEDIASOUP_WORKER_BIN"; exit 0
fi

pkg=$(cd "$root/sfu/node_modules/mediasoup" 2>/dev/null && pwd -P) || { log "mediasoup is not installed in sfu/ (run pnpm install)"; exit 1; }
version=$(node -p "require('$pkg/package.json').version")
cache="${PODLIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/podlive}/mediasoup-worker-$version"
bin="$cache/mediasoup-worker"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"

# Serialize concurrent callers (npm start and npm test at once build it only once).
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

try_prebuilt() {
  local tar="mediasoup-worker-$version-$(node -p process.platform)-$(node -p process.arch).tgz"
  local url="${MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL:-https://github.com/versatica/mediasoup/releases/download}/$version/$tar"
  local tmp; tmp=$(mktemp -d)
  log "trying the official prebuilt worker: $url"
  if node -e '
      fetch(process.argv[1], { signal: AbortSignal.timeout(20000) })
        .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.arrayBuffer(); })
        .then((b) => require("fs").writeFileSync(process.argv[2], Buffer.from(b)))
        .catch(() => process.exit(1));' "$url" "$tmp/w.tgz" 2>/dev/null \
     && tar -xzf "$tmp/w.tgz" -C "$tmp" && [ -f "$tmp/mediasoup-worker" ] \
     && ldd "$tmp/mediasoup-worker" >/dev/null 2>&1; then
    chmod +x "$tmp/mediasoup-worker"
    mv "$tmp/mediasoup-worker" "$bin"
    rm -rf "$tmp"; return 0
  fi
  rm -rf "$tmp"; return 1
}

build_offline() {
  log "building mediasoup-worker $version from source against Debian's libraries (about 6 minutes)"
  local src="$cache/src"
  rm -rf "$src"; mkdir -p "$src"
  cp -R "$pkg/worker/." "$src/"
  chmod -R u+w "$src"
  rm -rf "$src/out" "$src/subprojects/"*.wrap "$src/subprojects/packagecache"
  cp -R "$here/subprojects/." "$src/subprojects/"
  # Debian 12 ships meson 1.0.1; the worker asks for >= 1.1.0 but builds fine with 1.0.
  sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"
  meson setup "$src/build" "$src" --buildtype=release --wrap-mode=nodownload -Db_ndebug=true >&2
  ninja -C "$src/build" mediasoup-worker >&2
  cp "$src/build/mediasoup-worker" "$bin.tmp"
  mv "$bin.tmp" "$bin"
  rm -rf "$src"
}

if [ "${PODLIVE_SKIP_PREBUILT:-}" = "1" ] || ! try_prebuilt; then
  build_offline
fi
log "worker ready: $bin"
echo "$bin"
