#!/usr/bin/env bash
# The README's second command: install what is missing, type-check, lint and check the format, then run the whole suite
# (unit, integration and end-to-end tests against real libvirt and qemu). Extra args go to vitest, which then runs
# what they name one file at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
printf '[test] type-checking (tsc --noEmit)\n'
npx --no-install tsc --noEmit -p tsconfig.json
printf '[test] linting and checking the format (biome ci)\n'
npx --no-install biome ci .
if (($#)); then
  # A file or a filter: what it names, one file at a time (vitest.config.ts; the groups only decide the order).
  printf '[test] running vitest run %s\n' "$*"
  exec npx --no-install vitest run "$@"
fi
# The whole suite in its two groups (vitest.config.ts, docs/development.md): files that share nothing with another
# side by side, then those that share the machine's libvirtd, namespaces or ports one at a time. Both always run.
workers=${STORM_TEST_WORKERS:-3}
status=0
printf '[test] running the parallel group (vitest run --project parallel, %s files at a time)\n' "$workers"
npx --no-install vitest run --project parallel --fileParallelism --maxWorkers="$workers" || status=$?
printf '[test] running the serial group (vitest run --project serial, one file at a time)\n'
npx --no-install vitest run --project serial || status=$?
if ((status)); then printf '[test] failed: see the failing files above\n' >&2; fi
exit "$status"
