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
# run side by side, beside the files that share the machine's libvirtd, namespaces or ports, which run one at a time.
# Side by side because a serial file mostly waits on one guest under TCG, which leaves a core idle: one parallel file at
# a time takes that core (two made a CLI test miss its 30 s under the load). Both always run.
workers=${STORM_TEST_WORKERS:-1}
status=0
printf '[test] running the parallel group (vitest run --project parallel, %s files at a time; its lines start [parallel]) beside the serial group\n' "$workers"
# Its own process group, so that an interrupted run stops all of it (by its pid, never by name).
setsid bash -c 'npx --no-install vitest run --project parallel --fileParallelism --maxWorkers="$1" 2>&1 | sed -u "s/^/[parallel] /"; exit "${PIPESTATUS[0]}"' \
  parallel-group "$workers" &
parallel_pid=$!
trap 'kill -- "-$parallel_pid" 2>/dev/null || true' EXIT
printf '[test] running the serial group (vitest run --project serial, one file at a time)\n'
npx --no-install vitest run --project serial || status=$?
wait "$parallel_pid" || status=$?
trap - EXIT
if ((status)); then printf '[test] failed: see the failing files above (the parallel group'"'"'s start [parallel])\n' >&2; fi
exit "$status"
