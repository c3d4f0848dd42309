#!/usr/bin/env bash
# The README's first command: install what is missing, then run the manager with a local host and,
# where a bridge can be made, the appliance network services (scripts/appliance-network.sh).
# Environment: STORM_DATA (default ./data), STORM_LISTEN (default 127.0.0.1:8443),
# STORM_NETWORK_SERVICES=off to leave the appliance network out; extra flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
hypervisor=$(bash scripts/libvirtd.sh)
read -r -a network_flags <<<"$(bash scripts/appliance-network.sh)"
export STORM_DATA="${STORM_DATA:-$PWD/data}"
printf '[start] manager data in %s, local host on %s\n' "$STORM_DATA" "$hypervisor"
# Loopback channels are allowed so the sample channel (appliances/build/channel) can be served locally.
exec node bin/storm-manager.js --local-host --hypervisor "$hypervisor" --channel-allow 127.0.0.0/8 "${network_flags[@]}" "$@"
