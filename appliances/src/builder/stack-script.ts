/**
 * The POSIX sh program that assembles a build stack and runs one action in it. It runs as PID 1 of
 * `unshare --mount --uts --ipc --pid --fork --kill-child`, so every mount it makes (the squashfs
 * lowers on loop devices, the overlay, /proc, /dev, the caches) lives in a private mount namespace
 * and every process it starts in a private PID namespace: both vanish when it exits, however it
 * exits. It also unmounts and kills explicitly on the way out, so writes reach the upper directory
 * in order.
 *
 * Inputs (environment): STACK_DIR (its scratch folder: root/, lower/N), STACK_LOWERS (squashfs
 * images bottom → top, one per line; none: the upper itself is the root), STACK_UPPER, STACK_WORK,
 * STACK_HOSTNAME, STACK_BUSYBOX (a static busybox, copied into the root's /run for actions that
 * must not depend on the layer's own tools), STACK_ACTION (the action script), STACK_SHELL
 * (`layer`: the union's /bin/sh runs it; `busybox`: the static busybox does), STACK_SRC (optional
 * folder bind-mounted read-only at /run/storm-build/src), STACK_APT_ARCHIVES and STACK_APT_LISTS
 * (optional host folders bound over apt's caches so they never land in the layer), STACK_NET (non-empty:
 * set up name resolution and the apt caches; copy and delete actions leave /etc/resolv.conf alone),
 * STACK_EPOCH.
 */
export const STACK_SCRIPT = `
set -eu
umask 022
BUILD=/run/storm-build
root=$STACK_DIR/root
say() { echo "storm-stack: $*" >&2; }
fail() { say "$*"; exit 97; }

cleanup() {
	# We are PID 1 of our own PID namespace: this reaches everything the action left behind.
	kill -9 -1 2>/dev/null || true
	umount -R "$root" 2>/dev/null || umount -R -l "$root" 2>/dev/null || true
	for m in "$STACK_DIR"/lower/*; do
		[ -d "$m" ] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
	done
}
# Keep the action's status: under set -e a failing cleanup command would replace it.
trap 'rc=$?; set +e; cleanup; exit $rc' EXIT
mount --make-rprivate /
hostname "$STACK_HOSTNAME"
mkdir -p "$root" "$STACK_DIR/lower"

# Lowers read-only, bottom first; overlayfs wants them top first.
lowers=
i=0
while IFS= read -r img; do
	[ -n "$img" ] || continue
	i=$((i + 1))
	mkdir -p "$STACK_DIR/lower/$i"
	mount -t squashfs -o ro,loop "$img" "$STACK_DIR/lower/$i" || fail "cannot mount $img"
	if [ -n "$lowers" ]; then lowers="$STACK_DIR/lower/$i:$lowers"; else lowers="$STACK_DIR/lower/$i"; fi
done <<STORM_LOWERS
$STACK_LOWERS
STORM_LOWERS
if [ -n "$lowers" ]; then
	mkdir -p "$STACK_WORK"
	# The options /init uses, so the upper directory means in the build what it means at boot.
	mount -t overlay overlay -o "lowerdir=$lowers,upperdir=$STACK_UPPER,workdir=$STACK_WORK,redirect_dir=off,index=off,metacopy=off,xino=off" "$root" ||
		fail "cannot mount the overlay"
else
	mount --bind "$STACK_UPPER" "$root"
fi

# API filesystems. /dev is a private tmpfs with bound nodes, so nothing a step removes is the host's.
[ -d "$root/proc" ] && mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
[ -d "$root/sys" ] && mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
if [ -d "$root/dev" ]; then
	mount -t tmpfs -o nosuid,mode=0755,size=1m tmpfs "$root/dev"
	for n in null zero full random urandom tty; do
		: >"$root/dev/$n"
		mount --bind "/dev/$n" "$root/dev/$n"
	done
	mkdir "$root/dev/pts" "$root/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
	ln -s pts/ptmx "$root/dev/ptmx"
	mount -t tmpfs -o nosuid,nodev tmpfs "$root/dev/shm"
	ln -s /proc/self/fd "$root/dev/fd"
	ln -s /proc/self/fd/0 "$root/dev/stdin"
	ln -s /proc/self/fd/1 "$root/dev/stdout"
	ln -s /proc/self/fd/2 "$root/dev/stderr"
fi
[ -d "$root/run" ] || fail "the layers beneath have no /run directory"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mkdir -p "$root/run/lock"
[ -d "$root/tmp" ] && mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"

# Network for the layer's own tools (run, apt): name resolution into /run when resolv.conf points
# there, else bound over it (a private copy); apt's caches bound from the host.
rc=$root/etc/resolv.conf
if [ -z "$STACK_NET" ]; then
	:
elif [ -L "$rc" ]; then
	case "$(readlink "$rc")" in
	/run/resolv.conf | ../run/resolv.conf) cat /etc/resolv.conf >"$root/run/resolv.conf" ;;
	esac
elif [ -f "$rc" ]; then
	cat /etc/resolv.conf >"$STACK_DIR/resolv.conf"
	mount --bind "$STACK_DIR/resolv.conf" "$rc"
fi

if [ -n "$STACK_NET" ] && [ -n "$STACK_APT_ARCHIVES" ] && [ -d "$root/var/cache/apt/archives" ]; then
	mount --bind "$STACK_APT_ARCHIVES" "$root/var/cache/apt/archives"
fi
if [ -n "$STACK_NET" ] && [ -n "$STACK_APT_LISTS" ] && [ -d "$root/var/lib/apt/lists" ]; then
	mount --bind "$STACK_APT_LISTS" "$root/var/lib/apt/lists"
fi

mkdir -p "$root$BUILD"
cp "$STACK_BUSYBOX" "$root$BUILD/busybox"
cp "$STACK_ACTION" "$root$BUILD/action.sh"
if [ -n "$STACK_SRC" ]; then
	mkdir "$root$BUILD/src"
	mount --bind "$STACK_SRC" "$root$BUILD/src"
	mount -o remount,bind,ro "$root$BUILD/src"
fi

case "$STACK_SHELL" in
busybox) set -- "$BUILD/busybox" sh "$BUILD/action.sh" ;;
layer)
	[ -e "$root/bin/sh" ] || [ -L "$root/bin/sh" ] || fail "the layers beneath have no /bin/sh"
	set -- /bin/sh "$BUILD/action.sh"
	;;
*) fail "unknown STACK_SHELL $STACK_SHELL" ;;
esac
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LC_ALL=C TZ=UTC \\
	SOURCE_DATE_EPOCH="$STACK_EPOCH" DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true STORM_BUILD="$BUILD" \\
	chroot "$root" "$@" </dev/null
`;

/** unshare(1) flags for STACK_SCRIPT (and debootstrap): private mounts, host name, IPC and PIDs. */
export const UNSHARE_ARGS = ['--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--propagation', 'private'] as const;
