#!/usr/bin/env bash
# Every check of `npm test`, after setup.sh: type-check every package, lint, then each package's
# tests (vitest), one package at a time (two cores; browser and media tests are heavy).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MEDIASOUP_WORKER_BIN=$(bash deploy/mediasoup/worker.sh)
export MEDIASOUP_WORKER_BIN

echo "[test] type-check and lint" >&2
pnpm --silent run check

echo "[test] tests" >&2
pnpm -r --workspace-concurrency=1 --reporter=append-only run test
