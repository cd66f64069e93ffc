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
rm -f */.vitest-results.json
status=0
pnpm -r --workspace-concurrency=1 --reporter=append-only run test --reporter=default --reporter=json --outputFile.json=.vitest-results.json || status=$?

# One closing line for the whole suite, summed over every package's vitest JSON report.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' */.vitest-results.json
exit "$status"
