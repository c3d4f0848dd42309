# STORM layer-stack logic for /init, kept apart so the host can test it with busybox sh.
# Pure functions over a command line and a sysfs tree ($STORM_SYSFS, default /sys); results in
# STORM_* variables, the reason of a failure in STORM_ERR. Contract: docs/initrd.md.

STORM_SYSFS=${STORM_SYSFS:-/sys}

# storm_layers_arg CMDLINE: sets STORM_LAYERS_ARG to the value of storm.layers=.
# Returns 0 when present, 1 when absent, 2 (with STORM_ERR) when given more than once.
storm_layers_arg() {
	STORM_LAYERS_ARG=
	STORM_ERR=
	_found=0
	set -f
	for _w in $1; do
		case "$_w" in
		storm.layers=*)
			_found=$((_found + 1))
			STORM_LAYERS_ARG=${_w#storm.layers=}
			;;
		esac
	done
	set +f
	if [ "$_found" -gt 1 ]; then
		STORM_ERR="storm.layers= given $_found times"
		return 2
	fi
	[ "$_found" -eq 1 ]
}

# storm_valid_dev NAME: a whole-disk name as it appears in /sys/block (letters, then letters/digits).
storm_valid_dev() {
	case "$1" in
	'' | [!a-z]* | *[!a-z0-9]*) return 1 ;;
	esac
	return 0
}

# storm_parse_layers SPEC: "dev:role,dev:role,..." → STORM_DEVS and STORM_ROLES (space-separated,
# bottom → top). Returns 1 with STORM_ERR on malformed input or an invalid stack.
storm_parse_layers() {
	STORM_DEVS=
	STORM_ROLES=
	STORM_ERR=
	case "$1" in
	'') STORM_ERR="storm.layers= is empty"; return 1 ;;
	,* | *, | *,,*) STORM_ERR="storm.layers= has an empty entry: '$1'"; return 1 ;;
	esac
	_old_ifs=$IFS
	IFS=,
	set -f
	for _item in $1; do
		_dev=
		_role=
		case "$_item" in
		*:*:*) ;;
		?*:ro | ?*:rw) _dev=${_item%:*} _role=${_item#*:} ;;
		esac
		if [ "$_item" != "$_dev:$_role" ]; then
			STORM_ERR="bad entry '$_item' in storm.layers= (want dev:ro or dev:rw)"
			break
		fi
		if ! storm_valid_dev "$_dev"; then
			STORM_ERR="bad disk name '$_dev' in storm.layers="
			break
		fi
		case " $STORM_DEVS " in
		*" $_dev "*) STORM_ERR="disk $_dev named twice in storm.layers="; break ;;
		esac
		STORM_DEVS="${STORM_DEVS:+$STORM_DEVS }$_dev"
		STORM_ROLES="${STORM_ROLES:+$STORM_ROLES }$_role"
	done
	set +f
	IFS=$_old_ifs
	[ -z "$STORM_ERR" ] || return 1
	storm_check_stack
}

# storm_check_stack: STORM_ROLES must be one or more ro followed by exactly one rw.
storm_check_stack() {
	_n=0
	_rw=0
	_last=
	for _role in $STORM_ROLES; do
		_n=$((_n + 1))
		[ "$_role" = rw ] && _rw=$((_rw + 1))
		_last=$_role
	done
	if [ "$_rw" -ne 1 ]; then
		STORM_ERR="stack needs exactly one rw layer, found $_rw ($(storm_stack_string))"
		return 1
	fi
	if [ "$_last" != rw ]; then
		STORM_ERR="the rw layer must be the last (top) one ($(storm_stack_string))"
		return 1
	fi
	if [ "$_n" -lt 2 ]; then
		STORM_ERR="stack needs at least one ro layer below the rw one ($(storm_stack_string))"
		return 1
	fi
	return 0
}

# storm_stack_string: "vda:ro,vdb:rw" from STORM_DEVS and STORM_ROLES.
storm_stack_string() {
	_out=
	set -- $STORM_ROLES
	for _dev in $STORM_DEVS; do
		_out="${_out:+$_out,}$_dev:${1:-?}"
		shift || true
	done
	echo "$_out"
}

# storm_ro_flag DEV: prints 1 or 0 from /sys/block/DEV/ro; returns 1 when it cannot be read.
storm_ro_flag() {
	_f="$STORM_SYSFS/block/$1/ro"
	[ -r "$_f" ] || return 1
	read -r _v <"$_f" 2>/dev/null || return 1
	case "$_v" in
	0 | 1) echo "$_v" ;;
	*) return 1 ;;
	esac
}

# storm_rule_role DEV: the STORM paper's device rule mapped to virtio names (sda→vda, …):
# a ro, b rw, c ro, d rw. No partitions, so the paper's sdd4 swap exception has no counterpart.
storm_rule_role() {
	case "$1" in
	vda | vdc) echo ro ;;
	vdb | vdd) echo rw ;;
	*) return 1 ;;
	esac
}

# storm_virtio_disks: vd* disks in /sys/block in device order (vdz before vdaa).
storm_virtio_disks() {
	for _p in "$STORM_SYSFS"/block/vd*; do
		[ -e "$_p" ] || continue
		_d=${_p##*/}
		storm_valid_dev "$_d" && echo "${#_d} $_d"
	done | sort -n -k1,1 -k2,2 | cut -d' ' -f2
}

# storm_detect_layers: no storm.layers=, so every vd* disk is a layer in device order; its role
# comes from its ro flag, and from the device rule only when the flag cannot be read.
# Sets STORM_DEVS, STORM_ROLES and STORM_RULED (disks decided by the rule).
storm_detect_layers() {
	STORM_DEVS=
	STORM_ROLES=
	STORM_RULED=
	STORM_ERR=
	for _dev in $(storm_virtio_disks); do
		if _flag=$(storm_ro_flag "$_dev"); then
			if [ "$_flag" = 1 ]; then _role=ro; else _role=rw; fi
		elif _role=$(storm_rule_role "$_dev"); then
			STORM_RULED="${STORM_RULED:+$STORM_RULED }$_dev"
		else
			STORM_ERR="cannot read $_dev's ro flag and the device rule does not cover $_dev"
			return 1
		fi
		STORM_DEVS="${STORM_DEVS:+$STORM_DEVS }$_dev"
		STORM_ROLES="${STORM_ROLES:+$STORM_ROLES }$_role"
	done
	if [ -z "$STORM_DEVS" ]; then
		STORM_ERR="no storm.layers= and no virtio disks"
		return 1
	fi
	storm_check_stack
}

# storm_check_disk DEV ROLE: the disk exists and its ro flag allows the role.
# Returns 1 with STORM_ERR; sets STORM_WARN when a ro layer sits on a writable disk.
storm_check_disk() {
	STORM_ERR=
	STORM_WARN=
	if [ ! -e "$STORM_SYSFS/block/$1" ]; then
		STORM_ERR="disk $1 is missing"
		return 1
	fi
	if ! _flag=$(storm_ro_flag "$1"); then
		# Unreadable flag: trust the role; the mount itself will fail if it is wrong.
		return 0
	fi
	if [ "$2" = rw ] && [ "$_flag" = 1 ]; then
		STORM_ERR="disk $1 is read-only but its role is rw"
		return 1
	fi
	if [ "$2" = ro ] && [ "$_flag" = 0 ]; then
		STORM_WARN="disk $1 is writable but its role is ro; mounting it read-only"
	fi
	return 0
}

# storm_lowerdirs DIR...: overlayfs lowerdir= value for lower layers given bottom → top
# (overlayfs wants the top lower layer first).
storm_lowerdirs() {
	_out=
	for _d in "$@"; do
		_out="$_d${_out:+:$_out}"
	done
	echo "$_out"
}
