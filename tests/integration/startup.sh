#!/bin/bash
# Options and configuration errors: one clear line, nothing mounted.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

"$GPUFS" --help | grep -q "config=PATH" || fail "--help documents config="
pass "--help"
"$GPUFS" --version | grep -qE '^gpufs [0-9]' || fail "--version"
pass "--version"

start_sim

# refuses CONFIG-TEXT MODE EXPECTED-WORDS...: gpufs must exit non-zero with
# one line on stderr holding every word.
refuses() {
	printf '%b' "$1" >"$WORK/bad.conf"
	chmod "$2" "$WORK/bad.conf"
	shift 2
	if env -u RUNCRATE_API_KEY "$GPUFS" -f -o "config=$WORK/bad.conf" "$MNT" 2>"$WORK/err"; then
		fail "gpufs mounted with a bad config"
	fi
	is_mounted && fail "something is mounted"
	assert_eq 1 "$(wc -l <"$WORK/err")" "one line for: $*"
	for word in "$@"; do
		grep -qF -- "$word" "$WORK/err" || fail "the line names [$word]: $(cat "$WORK/err")"
	done
}

refuses "[runcrate]\nurl = $SIM_URL$RC\n" 600 "[runcrate]" RUNCRATE_API_KEY api_key
refuses "[gpu2]\nprovider = runcrat\napi_key = x\n" 600 "[gpu2]" runcrat runcrate
refuses "[runcrate]\napi_key = rc_live_sim\n" 644 "chmod 600" "$WORK/bad.conf"
if "$GPUFS" -f -o config="$WORK/missing" "$MNT" 2>"$WORK/err"; then fail "mounted without config"; fi
grep -q "$WORK/missing" "$WORK/err" || fail "names the missing file"
pass "a missing config file is named"
if "$GPUFS" -f -o ttl=soon -o config="$WORK/missing" "$MNT" 2>"$WORK/err"; then fail "bad ttl"; fi
grep -q "ttl" "$WORK/err" || fail "names ttl"
pass "a bad ttl is refused"

# The key may come from the environment.
printf '[runcrate]\nurl = %s\n' "$SIM_URL$RC" >"$WORK/config"
chmod 600 "$WORK/config"
export RUNCRATE_API_KEY=rc_live_sim
mount_gpufs
[ -n "$(ls "$MNT/runcrate/instances")" ] || [ -d "$MNT/runcrate/instances" ] || fail "mounted"
pass "RUNCRATE_API_KEY works"
unmount_gpufs

# Every session loop serves the same tree: gpufs's own (the default, and
# the longest spin), and libfuse's (spin=0, clone_fd, -s).
for opts in "-o spin=10000" "-o spin=0" "-o clone_fd" "-s"; do
	# shellcheck disable=SC2086
	mount_gpufs $opts
	[ "$(wc -l <"$MNT/runcrate/offers")" -gt 1 ] || fail "offers with $opts"
	ls -l "$MNT/runcrate" >/dev/null || fail "ls -l with $opts"
	pass "reads and a listing with $opts"
	unmount_gpufs
done
for spin in fast 10001 -1 ""; do
	if timeout 10 "$GPUFS" -f -o "spin=$spin" -o config="$WORK/config" "$MNT" 2>"$WORK/err"; then
		fail "spin=$spin mounted"
	fi
	is_mounted && fail "something is mounted"
	grep -q "spin=$spin: expected microseconds" "$WORK/err" || fail "spin=$spin: $(cat "$WORK/err")"
done
pass "a bad spin= is refused with one line"
for max in 1 1001 many ""; do
	if timeout 10 "$GPUFS" -f -o "max_threads=$max" -o config="$WORK/config" "$MNT" 2>"$WORK/err"; then
		fail "max_threads=$max mounted"
	fi
	is_mounted && fail "something is mounted"
	grep -q "max_threads=$max: expected a thread count from 2 to 1000" "$WORK/err" ||
		fail "max_threads=$max: $(cat "$WORK/err")"
done
pass "a bad max_threads= is refused with one line"
