#!/bin/bash
# Reading: the tree, values that coreutils agree on, by-name, offers, and the
# promise that a listing fills every instance (no per-instance GETs).
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

# A frozen clock: the demo instances must not change state mid-test.
SIM_STEP=100000 start_sim --demo
mount_gpufs -o ttl=60
cd "$MNT"

assert_eq "README cost_per_hour events offers runcrate" "$(ls | xargs)" "the root lists its files and the account"
grep -q "new/" README || fail "README explains new/"
pass "README explains the tree"
assert_eq "balance by-name instances new offers" "$(ls runcrate | xargs)" "account directory"

sim_ids=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" |
	jq -r '.data[].id' | sort | xargs)
assert_eq "$sim_ids" "$(ls runcrate/instances | sort | xargs)" "instances/ lists the account's instances"

cd runcrate/instances
for id in *; do
	assert_eq "$id" "$(cat "$id/id")" "$id/id"
	grep -qxE 'pending|running|stopping|stopped|terminating|terminated|error' "$id/status" ||
		fail "$id/status in the common vocabulary: $(cat "$id/status")"
done
pass "every status is in the common vocabulary"

expected="cost_per_hour cpu_cores created_at ctl disk_gb error gpu_count gpu_type id image ip json memory_gb name provider_status region ssh status"
running=$(grep -lx running */status | head -n 1 | cut -d/ -f1)
[ -n "$running" ] || fail "the demo has a running instance"
assert_eq "$expected" "$(ls "$running" | xargs)" "an instance directory holds the common files"

for f in "$running"/*; do
	size=$(stat -c %s "$f")
	[ "$size" = "$(wc -c <"$f")" ] || fail "$f: stat says $size, wc -c says $(wc -c <"$f")"
	[ "$size" = "$(cat "$f" | wc -c)" ] || fail "$f: cat gives another length"
	cp "$f" "$WORK/copy" && cmp -s "$f" "$WORK/copy" || fail "$f: cp differs"
	if [ "$size" -gt 0 ]; then
		[ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] || fail "$f: no final newline"
	fi
done
pass "stat, wc -c, cat and cp agree on every file; values end in a newline"

sim_running=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" |
	jq '[.data[] | select(.status == "running")] | length')
assert_eq "$sim_running" "$(grep -lx running */status | wc -l)" "grep -l running finds the running ones"

ip=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances/$running" | jq -r .data.ip)
assert_eq "$ip" "$(cat "$running/ip")" "ip is the provider's"
assert_eq "ssh root@$ip" "$(cat "$running/ssh")" "ssh is a command to paste"
assert_eq "$running" "$(jq -r .id "$running/json")" "json is the provider's object"
grep -qxE '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' "$running/created_at" ||
	fail "created_at is RFC 3339 UTC: $(cat "$running/created_at")"
pass "created_at is RFC 3339 UTC"
assert_eq "terminate" "$(cat "$running/ctl")" "ctl lists the verbs Runcrate takes"

name=$(cat "$running/name")
assert_eq "../instances/$running" "$(readlink "../by-name/$name")" "by-name/<name> links to the instance"
assert_eq "$running" "$(cat "../by-name/$name/id")" "reading through the link"

cd ..
assert_eq "offer	gpu_type	gpu_count	cpu_cores	memory_gb	disk_gb	region	cost_per_hour	available" \
	"$(head -n 1 offers)" "offers has a header line"
tail -n +2 offers | cut -f 8 | sort -n -c || fail "offers are cheapest first"
pass "offers are cheapest first"
[ "$(tail -n +2 offers | wc -l)" -ge 3 ] || fail "offers has rows"
grep -qxE '[0-9]+(\.[0-9]+)?' balance || fail "balance is a number: $(cat balance)"
pass "balance"

cd /
unmount_gpufs

# A listing fills the cache of every instance in it: on a fresh mount.
mount_gpufs -o ttl=60
sim_reset
ls -l "$MNT/runcrate/instances" >/dev/null
cat "$MNT"/runcrate/instances/*/* >/dev/null
assert_eq 1 "$(sim_count "GET $RC/instances")" "ls -l and cat */* cost one list"
assert_eq 0 "$(sim_count "GET $RC/instances/{id}")" "and no per-instance GET"
unmount_gpufs
