#!/usr/bin/env bash
# The appliance network of the start command: a host bridge (default stormbr0, 10.77.0.1/24) the
# instances' NICs join and the manager serves DHCP, DNS, LDAP, Kerberos (where MIT's krb5kdc is
# installed) and guest XML-RPC on, like libvirt's own virbr0. Idempotent. Prints the manager flags that turn the services on, or nothing (with a
# reason on stderr) where the bridge cannot be made here, or when STORM_NETWORK_SERVICES=off.
set -uo pipefail
say() { printf '[network] %s\n' "$*" >&2; }
BRIDGE=${STORM_BRIDGE_NAME:-stormbr0}
ADDRESS=${STORM_BRIDGE_ADDRESS:-10.77.0.1}
PREFIX=${STORM_BRIDGE_PREFIX:-24}
NETWORK=${STORM_BRIDGE_NETWORK:-10.77.0.0/24}

if [[ "${STORM_NETWORK_SERVICES:-on}" == off ]]; then say "appliance network services off (STORM_NETWORK_SERVICES=off)"; exit 0; fi
if [[ $EUID -ne 0 ]] || ! command -v ip >/dev/null; then say "not root or no iproute2: appliance network services off"; exit 0; fi
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  say "creating bridge $BRIDGE ($ADDRESS/$PREFIX) for the appliance network"
  ip link add "$BRIDGE" type bridge || { say "cannot create $BRIDGE: appliance network services off"; exit 0; }
  ip link set "$BRIDGE" type bridge stp_state 0 forward_delay 0 2>/dev/null || true
fi
ip -4 addr show dev "$BRIDGE" | grep -q " $ADDRESS/" || ip addr add "$ADDRESS/$PREFIX" dev "$BRIDGE" || { say "cannot address $BRIDGE"; exit 0; }
ip link set "$BRIDGE" up
# The realm's KDC where Debian's krb5-kdc is installed (scripts/setup.sh installs it).
kdc=
if command -v krb5kdc >/dev/null || [[ -x /usr/sbin/krb5kdc ]]; then kdc=" --kdc-listen $ADDRESS:88"; else say "no krb5kdc (Debian's krb5-kdc): Kerberos off"; fi
say "appliance network $NETWORK on $BRIDGE: DHCP, DNS ($ADDRESS:53), LDAP ($ADDRESS:389, binds after StartTLS only), ${kdc:+Kerberos KDC ($ADDRESS:88), }guest XML-RPC ($ADDRESS:8444)"
# Directory passwords never cross the bridge in clear: every shipped LDAP client (postfix-mail) does StartTLS.
echo "--network $NETWORK --manager-address $ADDRESS --bridge $BRIDGE --dhcp-interface $BRIDGE --dns-listen $ADDRESS:53 --ldap-listen $ADDRESS:389 --ldap-require-tls --guest-listen $ADDRESS:8444$kdc"
