#!/bin/bash
# Provider faults (gpufs-sim's /_sim/fault): nothing hangs past -o timeout=,
# nothing is created twice, stale values are served, the daemon recovers.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

LIST="GET $RC/instances"
GET1="GET $RC/instances/{id}"
POST="POST $RC/instances"

# fault JSON: adds one rule at the sim.
fault() {
	curl -sf -X POST "$SIM_URL/_sim/fault" -d "$1" >/dev/null || fail "sim refused fault $1"
}

clear_faults() {
	curl -sf -X DELETE "$SIM_URL/_sim/fault" >/dev/null
}

# gets_over N: the sim has served more than N single-instance GETs.  (A
# function: wait_until runs it anew each time.)
gets_over() {
	[ "$(sim_count "$GET1")" -gt "$1" ]
}

listing_back() {
	[ -n "$(ls instances)" ]
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# timed LIMIT_MS WHAT COMMAND...: runs COMMAND (killed after 30 s), fails if
# it took longer than LIMIT_MS; the command's status is in $TIMED_RC.
timed() {
	limit=$1
	what=$2
	shift 2
	start=$(now_ms)
	TIMED_RC=0
	timeout 30 "$@" >"$WORK/out" 2>"$WORK/err" || TIMED_RC=$?
	took=$(($(now_ms) - start))
	[ "$took" -le "$limit" ] || fail "$what took ${took} ms, limit ${limit} ms"
	pass "$what returned in ${took} ms"
}

# The first listing fails: a never-fetched object gives EIO, never a hang.
start_sim --demo
fault "{\"kind\":\"body\",\"route\":\"$LIST\",\"body\":\"{\\\"data\\\":[{\\\"id\\\":\"}\"}"
mount_gpufs -o timeout=2,connect_timeout=1,ttl=1,poll=3600
cd "$MNT/runcrate"
timed 4000 "ls of a malformed listing" ls instances
[ "$TIMED_RC" -ne 0 ] || fail "ls of a malformed listing succeeded: $(cat "$WORK/out")"
grep -q "Input/output error" "$WORK/err" || fail "ls says EIO: $(cat "$WORK/err")"
pass "never-fetched listing, malformed: EIO"
grep -q "not JSON" "$WORK/gpufs.log" || fail "the log says why"
pass "the log names the malformed reply"

for kind in truncated oversize; do
	clear_faults
	fault "{\"kind\":\"$kind\",\"route\":\"$LIST\"}"
	sleep 1.1 # past the ttl
	timed 4000 "ls of a $kind listing" ls instances
	[ "$TIMED_RC" -ne 0 ] || fail "ls of a $kind listing succeeded"
	grep -q "Input/output error" "$WORK/err" || fail "$kind: EIO: $(cat "$WORK/err")"
	pass "never-fetched listing, $kind: EIO"
done
grep -q "reply too large" "$WORK/gpufs.log" || fail "the log says the reply was too large"
pass "the log names the oversized reply"

# Wrong types and nulls everywhere: EIO or empty values, never a crash.
clear_faults
fault "{\"kind\":\"body\",\"route\":\"$LIST\",\"body\":\"{\\\"data\\\":[{\\\"id\\\":null,\\\"name\\\":[1],\\\"status\\\":{},\\\"cost_per_hour\\\":\\\"x\\\"},7,null]}\"}"
sleep 1.1
timeout 10 ls instances >/dev/null 2>&1 || true
kill -0 "$GPUFS_PID" || fail "gpufs died on unexpected JSON"
pass "unexpected JSON does not crash the daemon"

# Recovery: the provider answers again.
clear_faults
sleep 1.1
wait_until 10 "the listing to recover" listing_back
pass "the daemon recovers when the provider returns"
id=$(ls instances | head -n 1)
status=$(cat "instances/$id/status")
[ -n "$status" ] || fail "a status after recovery"

# Hung provider: a read returns the stale value within the timeout (one
# deadline for every retry), and `error` says since when.
fault "{\"kind\":\"latency\",\"route\":\"$GET1\",\"ms\":20000}"
fault "{\"kind\":\"latency\",\"route\":\"$LIST\",\"ms\":20000}"
sleep 1.1
timed 3500 "a read while the provider hangs" cat "instances/$id/status"
assert_eq 0 "$TIMED_RC" "the read succeeds"
assert_eq "$status" "$(cat "$WORK/out")" "it gives the last value"
timed 3500 "error while the provider hangs" cat "instances/$id/error"
grep -q "^stale since [0-9-]*T[0-9:]*Z: " "$WORK/out" || fail "error says stale: $(cat "$WORK/out")"
pass "error says the data is stale since when"

# While a read waits for the hung provider, the mount answers the others:
# the thread that waits gave up reading requests (src/loop.c).
gets=$(sim_count "$GET1")
cat "instances/$id/status" >/dev/null &
hung=$!
wait_until 5 "the hung read's GET" gets_over "$gets"
timed 1000 "a lookup while a read waits for the provider" stat "$MNT/nothing-$RANDOM"
kill -0 "$hung" 2>/dev/null || fail "the hung read ended before the lookup: nothing shown"
pass "the lookup did not wait for the hung read"
wait "$hung" || fail "the hung read gives the last value"

# A slow drip is bounded the same way.
clear_faults
fault "{\"kind\":\"drip\",\"route\":\"$GET1\",\"ms\":15000}"
sleep 1.1
timed 3500 "a read while the provider drips" cat "instances/$id/status"
assert_eq "$status" "$(cat "$WORK/out")" "the drip read gives the last value"

# 429 bursts: a short Retry-After is honoured and the read succeeds; a long
# one does not hold the reader past the timeout.
clear_faults
sleep 1.1
cat "instances/$id/status" >/dev/null # fresh again, not stale
sleep 1.1
sim_reset
fault "{\"kind\":\"429\",\"route\":\"$GET1\",\"retry_after\":\"1\",\"count\":1}"
timed 3500 "a read after a 429 with Retry-After: 1" cat "instances/$id/error"
[ "$took" -ge 900 ] || fail "Retry-After: 1 was not honoured (${took} ms)"
pass "Retry-After: 1 was waited for"
grep -q stale "$WORK/out" && fail "the retried read is fresh: $(cat "$WORK/out")"
assert_eq 2 "$(sim_count "$GET1")" "one 429, then one retry"
clear_faults
sleep 1.1
# (An HTTP date 5 s ahead: past the 2 s timeout, and the account's pause
# is over soon after.)
when=$(date -u -d '+5 sec' '+%a, %d %b %Y %H:%M:%S GMT')
fault "{\"kind\":\"429\",\"route\":\"$GET1\",\"retry_after\":\"$when\"}"
timed 3500 "a read after a 429 with a Retry-After date past the timeout" cat "instances/$id/status"
assert_eq "$status" "$(cat "$WORK/out")" "the rate-limited read gives the last value"
timed 3500 "the next read during the account's pause" cat "instances/$id/error"
grep -q "rate limited" "$WORK/out" || fail "error says rate limited: $(cat "$WORK/out")"
pass "the whole account waits out the Retry-After date"
sleep 5

# A share of 5xx is retried away.
clear_faults
sleep 1.1
sim_reset
fault "{\"kind\":\"5xx\",\"status\":503,\"route\":\"$GET1\",\"count\":2}"
timed 3500 "a read through two 503s" cat "instances/$id/error"
grep -q stale "$WORK/out" && fail "two 503s are retried: $(cat "$WORK/out")"
assert_eq 3 "$(sim_count "$GET1")" "two 503s and a success"

# Creates: the connection drops after the sim applied the create.
clear_faults
offer=$(sed -n 2p offers | cut -f 1)
sim_reset
fault "{\"kind\":\"drop\",\"route\":\"$POST\",\"count\":1}"
printf 'offer=%s\n' "$offer" >"$WORK/spec"
# The create runs once the writer closes; reading the spec file waits for it.
cp "$WORK/spec" new/lost1 || fail "cp of a spec"
timed 5000 "the outcome of a create whose reply is lost" head -n 1 new/lost1
new_id=$(cat "$WORK/out")
case "$new_id" in "" | error*) fail "the create counts as done: [$new_id]" ;; esac
pass "the create counts as done"
assert_eq "# the provider's reply was lost; found the new instance by its name" \
	"$(sed -n 2p new/lost1)" "the spec file says how"
assert_eq lost1 "$(cat "instances/$new_id/name")" "the id is the new instance"
assert_eq 1 "$(sim_count "$POST")" "one create sent"
assert_eq 1 "$(grep -lx lost1 instances/*/name | wc -l)" "one instance named lost1"

# The same for a JSON spec, sent as is: it is looked for by its "name".
fault "{\"kind\":\"drop\",\"route\":\"$POST\",\"count\":1}"
printf '{"name": "jlost", "instance_type_id": "%s"}\n' "$offer" >"$WORK/spec.json"
cp "$WORK/spec.json" new/jlost.json || fail "cp of a JSON spec"
new_id=$(head -n 1 new/jlost.json)
case "$new_id" in "" | error*) fail "the JSON create counts as done: [$(cat new/jlost.json)]" ;; esac
assert_eq "# the provider's reply was lost; found the new instance by its name" \
	"$(sed -n 2p new/jlost.json)" "a JSON spec's lost reply is found by its name"
assert_eq jlost "$(cat "instances/$new_id/name")" "the id is the JSON spec's instance"
assert_eq 2 "$(sim_count "$POST")" "one create sent for it"

# A 500 where the provider did nothing: it fails and says to look first.
fault "{\"kind\":\"5xx\",\"route\":\"$POST\",\"count\":1}"
cp "$WORK/spec" new/lost2 || fail "cp of a spec"
assert_spec_error "a create answered 500 fails" new/lost2 .
grep -q "may still appear: check instances/ before retrying" new/lost2 ||
	fail "the spec file says to check: $(cat new/lost2)"
pass "the spec file says it may still appear"
assert_eq 3 "$(sim_count "$POST")" "that create was sent once"
assert_eq 0 "$(grep -lx lost2 instances/*/name 2>/dev/null | wc -l)" "no instance lost2"

# A create slower than the timeout: gpufs gives up, the provider acts later;
# exactly one instance appears and nothing was sent twice.
fault "{\"kind\":\"latency\",\"route\":\"$POST\",\"ms\":4000,\"count\":1}"
cp "$WORK/spec" new/slow1 || fail "cp of a spec"
timed 5000 "the outcome of a create that times out" cat new/slow1
assert_spec_error "a timed-out create whose instance is not listed yet fails" new/slow1 .
grep -q "may still appear" new/slow1 || fail "new/slow1 explains: $(cat new/slow1)"
pass "a timed-out create says it may still appear"
sleep 1.1
wait_until 10 "slow1 to appear" sh -c "cat instances/*/name | grep -qx slow1"
assert_eq 1 "$(grep -lx slow1 instances/*/name | wc -l)" "one instance named slow1"
assert_eq 4 "$(sim_count "$POST")" "still one POST per spec"

# While a slow create runs and a reader waits for its outcome, another spec
# is written and closed without waiting for it.
fault "{\"kind\":\"latency\",\"route\":\"$POST\",\"ms\":1800,\"count\":1}"
cp "$WORK/spec" new/slow2 || fail "cp of a spec"
timeout 10 cat new/slow2 >"$WORK/slow2.out" &
reader=$!
sleep 0.3
timed 1000 "writing a spec while another's create is read" cp "$WORK/spec" new/beside1
wait "$reader" || fail "cat of the slow spec"
case "$(head -n 1 "$WORK/slow2.out")" in "" | error*) fail "slow2: $(cat "$WORK/slow2.out")" ;; esac
pass "the slow create's reader gets its id"
case "$(head -n 1 new/beside1)" in "" | error*) fail "beside1: $(cat new/beside1)" ;; esac
pass "and the other spec is created after it"

clear_faults
cd /
unmount_gpufs

# A fresh mount that never listed fetches each instance it is asked for by
# itself.  The listing hangs from here on.
ids=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" | jq -r '.data[].id')
n=$(echo "$ids" | wc -l)
[ "$n" -ge 6 ] || fail "at least 6 instances at the sim: $n"
fault "{\"kind\":\"latency\",\"route\":\"$LIST\",\"ms\":20000}"

# Lookups in one directory run side by side (src/dirops.c): while one
# instance's lookup waits for the provider, another's beside it returns.
fault "{\"kind\":\"latency\",\"route\":\"$GET1\",\"ms\":20000,\"count\":1}"
mount_gpufs -o timeout=2,ttl=60,poll=3600
read -r id1 id2 _ <<<"$(echo $ids)"
gets=$(sim_count "$GET1")
stat "$MNT/runcrate/instances/$id1" >/dev/null 2>&1 &
slow=$!
wait_until 5 "the slow lookup's GET" gets_over "$gets"
timed 1000 "a lookup beside one that waits for the provider" stat "$MNT/runcrate/instances/$id2"
assert_eq 0 "$TIMED_RC" "the other lookup succeeds"
kill -0 "$slow" 2>/dev/null || fail "the slow lookup ended before the other: nothing shown"
pass "one slow lookup does not hold up the directory"
wait "$slow" || true
unmount_gpufs

# -o max_threads= bounds the threads that answer: lookups of every instance
# at the sim, all waiting for the hung provider, take a thread each by
# default (they run side by side), and no more than 3 with max_threads=3.
fuse_threads() { grep -lx gpufs-fuse /proc/"$GPUFS_PID"/task/*/comm 2>/dev/null | wc -l; }
fault "{\"kind\":\"latency\",\"route\":\"$GET1\",\"ms\":20000}"
for max in "" 3; do
	mount_gpufs -o timeout=2,ttl=60,poll=3600 ${max:+-o max_threads=$max}
	gets=$(sim_count "$GET1")
	readers=()
	for i in $ids; do
		stat "$MNT/runcrate/instances/$i" >/dev/null 2>&1 &
		readers+=($!)
	done
	# Every thread there may be waits for a GET (within the 2 s timeout).
	wait_until 2 "${max:-$n} lookups' GETs" gets_over "$((gets + ${max:-$n} - 1))"
	sleep 0.2 # a thread too many would be started by now
	threads=$(fuse_threads)
	wait "${readers[@]}" || true
	if [ -z "$max" ]; then
		[ "$threads" -ge "$n" ] ||
			fail "$n waiting lookups took $threads threads by default (side by side? dirops.c)"
	else
		[ "$threads" -le "$max" ] || fail "max_threads=$max: $threads threads"
		[ "$threads" -ge 2 ] || fail "max_threads=$max: only $threads threads"
	fi
	pass "$n lookups waiting for the provider: $threads threads (max_threads=${max:-32})"
	unmount_gpufs
done
clear_faults
