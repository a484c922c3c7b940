#!/bin/bash
# Stopping: SIGTERM unmounts and ends the daemon with status 0, also while
# requests are in flight and a page cache store is queued (the store then
# waits for a read the loop must still answer).
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

# stopped_by SIGNAL WHAT: sends SIGNAL, and checks the daemon ends, with
# status 0, and leaves nothing mounted.
stopped_by() {
	kill "-$1" "$GPUFS_PID"
	wait_until 20 "gpufs to end on SIG$1 ($2)" gpufs_ended
	rc=0
	wait "$GPUFS_PID" || rc=$?
	GPUFS_PID= FUSE_CONN=
	assert_eq 0 "$rc" "SIG$1 $2: gpufs exits 0"
	! is_mounted || fail "SIG$1 $2: still mounted"
	pass "SIG$1 $2: unmounted"
}
gpufs_ended() { ! kill -0 "$GPUFS_PID" 2>/dev/null; }

start_sim --demo
running=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" |
	jq -r '[.data[] | select(.status == "running")][0].id')

mount_gpufs
ls "$MNT/runcrate/instances" >/dev/null
stopped_by TERM "when idle"

# A lookup is slow at the provider when the signal comes; the file looked
# up before it is queued for a store, and read meanwhile: its read must be
# answered before the loop ends, or the store waits forever and unmount
# with it.
mount_gpufs -o ttl=30,poll=3600
cd "$MNT/runcrate"
cat ../README "instances/$running/status" >/dev/null
stat "instances/$running/ip" >/dev/null
curl -sf -X POST "$SIM_URL/_sim/fault" \
	-d '{"kind":"latency","route":"GET /runcrate/api/v1/instances/types","ms":3000}' >/dev/null
stat offers >/dev/null 2>&1 &
slow=$!
sleep 0.5
kill -TERM "$GPUFS_PID"
sleep 0.3
timeout 30 cat "instances/$running/ip" >/dev/null 2>&1 &
reader=$!
cd /
wait_until 20 "gpufs to end on SIGTERM with a lookup in flight" gpufs_ended
reader_ended() { ! kill -0 "$reader" 2>/dev/null; }
wait_until 10 "the reader to end once gpufs ended" reader_ended
wait "$slow" "$reader" 2>/dev/null || true
rc=0
wait "$GPUFS_PID" || rc=$?
GPUFS_PID=
assert_eq 0 "$rc" "SIGTERM with requests in flight: gpufs exits 0"
! is_mounted || fail "SIGTERM with requests in flight: still mounted"
pass "SIGTERM with requests in flight: unmounted, no reader left waiting"

# A signal ignored by whoever started gpufs stays ignored (nohup does that
# with SIGHUP); another one still stops it.
real_gpufs=$GPUFS
GPUFS=$WORK/gpufs-no-term
printf '#!/bin/sh\nexec env --ignore-signal=TERM "%s" "$@"\n' "$real_gpufs" >"$GPUFS"
chmod +x "$GPUFS"
mount_gpufs
kill -TERM "$GPUFS_PID"
sleep 1
is_mounted || fail "SIGTERM, ignored when gpufs started: it unmounted"
pass "a signal ignored at start stays ignored"
stopped_by HUP "with SIGTERM ignored"
GPUFS=$real_gpufs

# With stdout and stderr closed, nothing of gpufs's own takes their place.
write_config
"$GPUFS" -f -o "config=$WORK/config" "$MNT" >&- 2>&- &
GPUFS_PID=$!
wait_until 10 "gpufs to mount with stdout and stderr closed" is_mounted
FUSE_CONN=$(stat -c '%Hd %Ld' "$MNT" | awk '{ print $1 * 1048576 + $2 }')
sleep 2
is_mounted || fail "with stdout and stderr closed, gpufs unmounted by itself"
ls "$MNT/runcrate/instances" >/dev/null
stopped_by TERM "with stdout and stderr closed"
