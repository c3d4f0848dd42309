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
# The whole suite in its three groups (vitest.config.ts, docs/development.md): files that share nothing with another
# run side by side, beside the files that share the machine's libvirtd, namespaces or ports, which run one at a time,
# beside the files that boot guests only in namespaces of their own, also one at a time. Side by side because a file
# that boots guests mostly waits on one guest under TCG, which leaves a core idle: one parallel file at a time takes
# what is left (two made a CLI test miss its 30 s under the load). All three always run.
workers=${STORM_TEST_WORKERS:-1}
status=0
background=()
# A group in its own process group, so that an interrupted run stops all of it (by its pid, never by name); its lines
# start [NAME].
start_group() {
  local name=$1
  shift
  setsid bash -c 'name=$1; shift; npx --no-install vitest run --project "$name" "$@" 2>&1 | sed -u "s/^/[$name] /"; exit "${PIPESTATUS[0]}"' \
    "$name-group" "$name" "$@" &
  background+=("$!")
}
stop_groups() { for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; }
trap stop_groups EXIT
printf '[test] running the parallel group (%s files at a time; its lines start [parallel]) and the isolated group (one file at a time; [isolated]) beside the serial group\n' "$workers"
start_group parallel --fileParallelism --maxWorkers="$workers"
start_group isolated
printf '[test] running the serial group (vitest run --project serial, one file at a time)\n'
npx --no-install vitest run --project serial || status=$?
for pid in "${background[@]}"; do wait "$pid" || status=$?; done
trap - EXIT
if ((status)); then printf '[test] failed: see the failing files above (the other groups'"'"' lines start [parallel] and [isolated])\n' >&2; fi
exit "$status"
