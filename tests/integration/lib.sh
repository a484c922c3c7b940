# Sourced by every integration test: start gpufs-sim and gpufs in a private
# temporary directory, and always stop both (by PID) and unmount, also when
# the test fails or is killed by the outer timeout.
#
# Environment (set by `make check`): GPUFS, GPUFS_SIM, GPUFS_SRCDIR.

set -eu

: "${GPUFS:?run through make check}" "${GPUFS_SIM:?run through make check}"

if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP: no /dev/fuse or fusermount3"
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpufs-test.XXXXXX")
MNT=$WORK/mnt
mkdir -p "$MNT"
SIM_PID=
GPUFS_PID=
SIM_PORT=
SIM_URL=
TEST_NAME=$(basename "$0" .sh)

FUSE_CONN=
TEST_PIDS= # other processes a test started: cleanup continues and kills them

# A daemon wedged on the kernel must not wedge the suite: when SIGTERM does
# not end it, its FUSE connection is aborted (as fusectl allows the owner),
# which fails every request in flight, and it is killed.
abort_connection() {
	ctl=/sys/fs/fuse/connections
	[ -n "$FUSE_CONN" ] || return 0
	[ -e "$ctl/$FUSE_CONN/abort" ] || mount -t fusectl fusectl "$ctl" 2>/dev/null || true
	echo 1 2>/dev/null >"$ctl/$FUSE_CONN/abort" ||
		echo "cannot abort FUSE connection $FUSE_CONN (no fusectl?)" >&2
}

# A child that ended, or one wait(1) can reap: every thread gone.
reapable() {
	[ ! -e "/proc/$1" ] ||
		{ [ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = Z ] &&
			[ "$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -le 1 ]; }
}

stop_gpufs() {
	kill "$GPUFS_PID" 2>/dev/null || return 0
	for _ in $(seq 100); do
		reapable "$GPUFS_PID" && break
		sleep 0.1
	done
	if ! reapable "$GPUFS_PID"; then
		echo "gpufs did not end on SIGTERM within 10 s: aborting its connection" >&2
		abort_connection
		kill -KILL "$GPUFS_PID" 2>/dev/null || true
		for _ in $(seq 50); do
			reapable "$GPUFS_PID" && break
			sleep 0.1
		done
	fi
	if reapable "$GPUFS_PID"; then
		wait "$GPUFS_PID" 2>/dev/null || true
	else
		echo "gpufs $GPUFS_PID is stuck in the kernel: left behind" >&2
	fi
}

cleanup() {
	status=$?
	trap - EXIT
	for pid in $TEST_PIDS; do
		kill -CONT "$pid" 2>/dev/null || true
		kill "$pid" 2>/dev/null || true
	done
	if [ -n "$GPUFS_PID" ]; then
		kill -CONT "$GPUFS_PID" 2>/dev/null || true # a test may have stopped it
		fusermount3 -uz "$MNT" 2>/dev/null || true
		stop_gpufs
	fi
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
		for log in "$WORK"/*.log; do
			[ -f "$log" ] || continue
			echo "---- $(basename "$log") (last 40 lines)"
			tail -n 40 "$log"
		done
	fi
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'echo "FAIL: $TEST_NAME: interrupted"; exit 124' INT TERM

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

pass() {
	echo "ok - $*"
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected [$1], got [$2]"
	pass "$3"
}

# Fails unless the command fails.
assert_fails() {
	what=$1
	shift
	if "$@" 2>"$WORK/last-stderr"; then
		fail "$what: succeeded, should have failed"
	fi
	pass "$what"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s.
# A spec refused as a whole is known only once its writer has closed it, and
# close(2) does not carry that (gpufs(1), CREATING): the writer succeeds,
# nothing is sent, and the spec file's first line says why.
# assert_spec_error WHAT FILE ERE
assert_spec_error() {
	head -n 1 "$2" | grep -qE "^error: .*$3" || fail "$1: $2 says [$(head -c 300 "$2")]"
	pass "$1"
}

wait_until() {
	limit=$1
	what=$2
	shift 2
	deadline=$(($(date +%s) + limit))
	until "$@" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${limit}s waiting for $what"
		sleep 0.2
	done
}

# start_sim [gpufs-sim options...]: the demo fake, steps of 1 s by default.
start_sim() {
	"$GPUFS_SIM" --port-file "$WORK/port" --step "${SIM_STEP:-1}" "$@" \
		>"$WORK/sim.log" 2>&1 &
	SIM_PID=$!
	wait_until 10 "gpufs-sim's port" test -s "$WORK/port"
	SIM_PORT=$(cat "$WORK/port")
	SIM_URL=http://127.0.0.1:$SIM_PORT
}

# write_config [extra config lines]: one runcrate account on the sim.
write_config() {
	umask 077
	{
		echo "[runcrate]"
		echo "api_key = rc_live_sim"
		echo "url = $SIM_URL/runcrate/api/v1"
		for line in "$@"; do echo "$line"; done
	} >"$WORK/config"
}

is_mounted() {
	grep -q " $MNT fuse" /proc/mounts
}

# mount_gpufs [-o options]: mounts in the foreground process, in background.
mount_gpufs() {
	FUSE_CONN=
	[ -f "$WORK/config" ] || write_config
	"$GPUFS" -f -o "config=$WORK/config" "$@" "$MNT" >"$WORK/gpufs.log" 2>&1 &
	GPUFS_PID=$!
	deadline=$(($(date +%s) + 10))
	until is_mounted; do
		kill -0 "$GPUFS_PID" 2>/dev/null || fail "gpufs exited before mounting"
		[ "$(date +%s)" -lt "$deadline" ] || fail "gpufs did not mount in 10s"
		sleep 0.1
	done
	# The connection's name under /sys/fs/fuse/connections: the kernel's
	# dev_t of the mount, major << 20 | minor.
	FUSE_CONN=$(stat -c '%Hd %Ld' "$MNT" | awk '{ print $1 * 1048576 + $2 }')
}

# unmount_gpufs: a clean unmount ends the daemon with status 0 and a log
# free of sanitizer reports.
unmount_gpufs() {
	fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
	rc=0
	wait "$GPUFS_PID" || rc=$?
	GPUFS_PID= FUSE_CONN=
	assert_eq 0 "$rc" "gpufs exits 0 after fusermount3 -u"
	if grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$WORK/gpufs.log"; then
		fail "sanitizer report in gpufs.log"
	fi
}

# sim_count "METHOD /path-template": how many such requests the sim served.
sim_count() {
	curl -sf "$SIM_URL/_sim/counts" | jq -r --arg k "$1" '.[$k] // 0'
}

sim_reset() {
	curl -sf -X POST "$SIM_URL/_sim/reset" >/dev/null
}

RC=/runcrate/api/v1
