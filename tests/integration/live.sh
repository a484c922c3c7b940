#!/bin/bash
# The live tree: inotify, poll(2), /events, tail -f, and one list request per
# poll interval however many files are watched.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo --step 2 --instances 50
mount_gpufs -o poll=1,ttl=1
cd "$MNT/runcrate"
offer=$(sed -n 2p offers | cut -f 1)

timeout 20 inotifywait -q -e modify "$MNT/events" >"$WORK/events-modify.out" 2>&1 &
events_pid=$!
timeout 20 tail -f "$MNT/events" >"$WORK/tail.out" 2>&1 &
tail_pid=$!
timeout 20 inotifywait -q -e create instances >"$WORK/create.out" 2>&1 &
create_pid=$!
sleep 2 # the first poll learns the baseline

printf 'offer=%s\n' "$offer" >new/live1 || fail "create"
id=$(cat new/live1)
grep -qx pending "instances/$id/status" || fail "a new instance is pending"
"$POLLWAIT" "instances/$id/status" 20 >"$WORK/poll.out" &
poll_pid=$!
timeout 20 inotifywait -q -e modify "instances/$id/status" >"$WORK/modify.out" ||
	fail "inotifywait -e modify status did not return"
pass "inotifywait -e modify returns when the status changes"
wait_until 10 "running" grep -qx running "instances/$id/status"
wait "$poll_pid" || fail "poll(2) on an open status handle did not wake: $(cat "$WORK/poll.out")"
pass "poll(2) on an open status handle wakes"
wait "$create_pid" || fail "no IN_CREATE on instances/"
grep -q "CREATE,ISDIR $id" "$WORK/create.out" || fail "IN_CREATE names the instance: $(cat "$WORK/create.out")"
pass "a new instance raises IN_CREATE on instances/"

# Nothing changes on a running instance: nothing fires.
if timeout 10 inotifywait -q -t 3 -e modify "instances/$id/status"; then
	fail "inotifywait fired without a change"
fi
pass "no event for an unchanged file"
"$POLLWAIT" "instances/$id/status" 3 >/dev/null && fail "poll woke without a change"
pass "poll(2) does not wake without a change"

timeout 20 inotifywait -q -e delete instances >"$WORK/delete.out" 2>&1 &
delete_pid=$!
sleep 0.5
echo terminate >"instances/$id/ctl"
wait_until 10 "terminated" grep -qx terminated "instances/$id/status"
wait "$delete_pid" || fail "no IN_DELETE when the instance left the list"
pass "an instance leaving the list raises IN_DELETE"

sleep 2
kill "$tail_pid" 2>/dev/null || true
wait "$events_pid" || fail "no IN_MODIFY on events when lines were added"
pass "events raises IN_MODIFY as it grows"
wait "$tail_pid" 2>/dev/null || true
before=$(stat -c %s "$MNT/events")
timeout 5 cat "$MNT/events" >"$WORK/events.out" || fail "cat events does not end"
pass "cat events prints what happened and ends"
got=$(wc -c <"$WORK/events.out")
after=$(stat -c %s "$MNT/events")
[ "$before" -le "$got" ] && [ "$got" -le "$after" ] ||
	fail "cat events gave $got bytes; stat said $before before and $after after"
pass "stat and cat agree on events (it only grows)"
mine=$(grep -P "\t$id\t" "$WORK/events.out" | cut -f 4-6 | tr '\t' ' ')
expected="instance  created
provider_status starting deploying
status pending running
provider_status deploying running
status running terminated
provider_status running terminated
instance  gone"
assert_eq "$expected" "$(echo "$mine" | grep -E '^(instance|status|provider_status) ')" \
	"events holds the transitions in order"
grep -qP "^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\truncrate\t$id\t" "$WORK/events.out" || fail "events lines start with an RFC 3339 time and the account"
grep -qP "\t$id\tstatus\tpending\trunning" "$WORK/tail.out" || fail "tail -f events saw the change"
pass "tail -f events follows"

# One list per interval while 50 files are watched, and no GET per file.
timeout 20 inotifywait -q -m -e modify instances/*/status >/dev/null 2>&1 &
watch_pid=$!
sleep 1
sim_reset
sleep 5
lists=$(sim_count "GET $RC/instances")
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
[ "$lists" -ge 3 ] && [ "$lists" -le 7 ] || fail "5 s at poll=1 made $lists list requests"
pass "one list request per interval with $(ls instances | wc -l) status files watched ($lists in 5 s)"
assert_eq 0 "$(sim_count "GET $RC/instances/{id}")" "and no per-instance GET"

# The account-wide views.
running=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" |
	jq '[.data[] | select(.status == "running") | .cost_per_hour] | add * 1000000 | round / 1000000')
assert_eq "$running" "$(cat "$MNT/cost_per_hour")" "cost_per_hour sums the running instances"
assert_eq "account	offer" "$(head -n 1 "$MNT/offers" | cut -f 1-2)" "/offers has an account column"
tail -n +2 "$MNT/offers" | cut -f 9 | sort -n -c || fail "/offers is cheapest first"
pass "/offers is cheapest first"

cd /
unmount_gpufs
