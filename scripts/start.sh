#!/usr/bin/env bash
# The README's first command: install what is missing, then run the manager with a local host.
# Environment: STORM_DATA (default ./data), STORM_LISTEN (default 127.0.0.1:8080); extra flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
hypervisor=$(bash scripts/libvirtd.sh)
export STORM_DATA="${STORM_DATA:-$PWD/data}"
export STORM_LISTEN="${STORM_LISTEN:-127.0.0.1:8080}"
printf '[start] manager data in %s, local host on %s\n' "$STORM_DATA" "$hypervisor"
# Loopback channels are allowed so the sample channel (appliances/build/channel) can be served locally.
exec node bin/storm-manager.js --local-host --hypervisor "$hypervisor" --channel-allow 127.0.0.0/8 "$@"
