#!/bin/bash
# 32 parallel readers and writers over many instances for a bounded time
# (STRESS_SECONDS, default 8), then fusermount3 -u while they still run: the
# unmount returns, the daemon exits 0 and its (ASan) log is clean.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

SECONDS_LEFT=${STRESS_SECONDS:-8}
start_sim --demo --instances 60 --step 0.5
mount_gpufs -o ttl=0.5,poll=0.5
A=$MNT/runcrate
offer=$(sed -n 2p "$A/offers" | cut -f 1)
until=$(($(date +%s) + SECONDS_LEFT))

reader() {
	while [ "$(date +%s)" -lt "$until" ]; do
		for d in "$A"/instances/*/; do
			cat "$d/status" "$d/ip" "$d/cost_per_hour" "$d/error" >/dev/null 2>&1
			[ "$(date +%s)" -lt "$until" ] || break
		done
		ls -l "$A/by-name" "$MNT" >/dev/null 2>&1
		cat "$A/offers" "$MNT/cost_per_hour" >/dev/null 2>&1
	done
}

writer() {
	n=0
	while [ "$(date +%s)" -lt "$until" ]; do
		n=$((n + 1))
		printf 'offer=%s\nname=stress-%s-%s\n' "$offer" "$1" "$n" >"$A/new/w$1-$n" 2>/dev/null
		victim=$(cat "$A/new/w$1-$n" 2>/dev/null | head -n 1)
		case $victim in
		"" | error*) ;;
		*) echo terminate >"$A/instances/$victim/ctl" 2>/dev/null ;;
		esac
		echo bogus >"$A/instances/$victim/ctl" 2>/dev/null
		printf 'offer=x\nbad line\n' >"$A/new/bad$1-$n" 2>/dev/null
		rm -f "$A/new/bad$1-$n" 2>/dev/null
	done
}

pids=
for i in $(seq 1 24); do
	reader &
	pids="$pids $!"
done
for i in $(seq 1 8); do
	writer "$i" &
	pids="$pids $!"
done
sleep "$SECONDS_LEFT"
kill -0 "$GPUFS_PID" || fail "gpufs died under load"
pass "gpufs alive after ${SECONDS_LEFT}s of 32 parallel clients"
[ "$(sim_count "POST $RC/instances")" -gt 0 ] || fail "the writers created instances"
pass "writers created $(sim_count "POST $RC/instances") instances"

# Unmount while clients are still at it: it must return, and the daemon exit 0.
until=$(($(date +%s) + 30))
sleep 1
timeout 20 fusermount3 -u "$MNT" || timeout 20 fusermount3 -uz "$MNT" ||
	fail "fusermount3 -u under load"
pass "fusermount3 -u returned under load"
rc=0
timeout 30 tail --pid="$GPUFS_PID" -f /dev/null || fail "gpufs did not exit after the unmount"
wait "$GPUFS_PID" || rc=$?
GPUFS_PID=
assert_eq 0 "$rc" "gpufs exits 0 after an unmount under load"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error|ThreadSanitizer" "$WORK/gpufs.log"; then
	fail "sanitizer report in gpufs.log"
fi
pass "no sanitizer report"
for pid in $pids; do
	kill "$pid" 2>/dev/null || true
done
for pid in $pids; do
	wait "$pid" 2>/dev/null || true
done
