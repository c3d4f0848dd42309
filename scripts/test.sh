#!/usr/bin/env bash
# The README's second command: install what is missing, type-check, lint and check the format, then run the whole suite
# (unit, integration and end-to-end tests against real libvirt and qemu). Extra args go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
printf '[test] type-checking (tsc --noEmit)\n'
npx --no-install tsc --noEmit -p tsconfig.json
printf '[test] linting and checking the format (biome ci)\n'
npx --no-install biome ci .
printf '[test] running the suite (vitest run)\n'
npx --no-install vitest run "$@"
