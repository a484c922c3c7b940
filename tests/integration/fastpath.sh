#!/bin/bash
# The fast path: a hot read never reaches the daemon (FUSE's no-open mode),
# while every freshness promise holds: changes show within the TTL, sizes
# agree, and a spec is created when its last writer closes it, never before.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo
mount_gpufs -o ttl=600,poll=3600
cd "$MNT/runcrate"
id=$(ls instances | head -n 1)
f=instances/$id/status

# Hot: the kernel answers lookup, open, stat, read and close by itself, so
# all of it works with the daemon stopped; the value stays fresh for the
# TTL.  grep's first SEEK_DATA asks the daemon once per mount, so it goes
# first.
grep -q . "$f"
cat "$f" >/dev/null
kill -STOP "$GPUFS_PID"
hot=ok
for _ in 1 2 3 4 5; do
	timeout 3 cat "$f" >/dev/null || hot="cat hung"
done
timeout 3 wc -c "$f" >/dev/null || hot="wc -c hung"
timeout 3 grep -q . "$f" || hot="grep hung"
kill -CONT "$GPUFS_PID"
assert_eq ok "$hot" "a hot cat, wc -c and grep never reach the daemon"

# Prefilled: a lookup puts a value's bytes in the page cache (stored when
# the next lookup comes), so a file a glob only looked up is read with no
# request: here, with the daemon stopped.  fincore asks the kernel without
# reading.
running=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" |
	jq -r '[.data[] | select(.status == "running")][0].id')
ip=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances/$running" |
	jq -r .data.ip)
stat "instances/$running/ip" >/dev/null
stat "instances/$running/gpu_type" >/dev/null
page_cached() { [ "$(fincore -n -b -o RES "$1")" -gt 0 ]; }
wait_until 10 "the looked-up ip to be in the page cache" page_cached "instances/$running/ip"
kill -STOP "$GPUFS_PID"
prefilled=$(timeout 3 cat "instances/$running/ip" || echo "cat hung")
kill -CONT "$GPUFS_PID"
assert_eq "$ip" "$prefilled" "a file only looked up is read from the page cache, and right"
cd /
unmount_gpufs
mount_gpufs -o ttl=2,poll=3600
cd "$MNT/runcrate"

# Fresh: a new instance goes from pending to running at the provider; with
# the poller idle (poll=3600), the TTL alone brings the change, and stat,
# wc -c and cat agree on the new value.
offer=$(sed -n 2p offers | cut -f 1)
printf 'offer=%s\n' "$offer" >new/fresh1
new=$(cat new/fresh1)
case "$new" in "" | error*) fail "new/fresh1 reads back an id, not [$new]" ;; esac
assert_eq pending "$(cat "instances/$new/status")" "a new instance is pending"
wait_until 15 "running to show" grep -qx running "instances/$new/status"
pass "the change shows within the TTL"
assert_eq 8 "$(stat -c %s "instances/$new/status")" "stat sees the new size"
assert_eq 8 "$(wc -c <"instances/$new/status")" "wc -c agrees"
assert_eq running "$(tail -n 1 "instances/$new/status")" "tail agrees"

# A spec is applied when its last writer closes it: here the group's first
# line comes from a child process whose exit closes a copy of the file.
# Creating then would rent a machine without the image asked for.
sim_reset
{
	/bin/echo "offer=$offer"
	sleep 0.5
	echo "image=ubuntu-cuda-devel"
} >new/split1
split=$(cat new/split1)
case "$split" in "" | error*) fail "new/split1 reads back an id, not [$split]" ;; esac
assert_eq 1 "$(sim_count "POST $RC/instances")" "one create, after the last line"
assert_eq ubuntu-cuda-devel "$(cat "instances/$split/image")" "with every line of the spec"

# A spec still held open is not applied, and the instance list waits for a
# spec closed just before it is read.
exec 3>new/held1
printf 'offer=%s\n' "$offer" >&3
sleep 0.3
assert_eq "offer=$offer" "$(cat new/held1)" "the spec shows as written while open"
assert_eq 1 "$(sim_count "POST $RC/instances")" "nothing sent while it is open"
exec 3>&-
assert_eq 1 "$(grep -lx held1 instances/*/name | wc -l)" "closed, it is created before the listing"
assert_eq 2 "$(sim_count "POST $RC/instances")" "one create for it"

# A close before the writer's first write does not count: an empty spec,
# closed, then appended to line by line, is created with every line.
sim_reset
: >new/empty1
exec 3>>new/empty1
printf 'offer=%s\n' "$offer" >&3
sleep 0.3
printf 'image=ubuntu-cuda-devel\n' >&3 || fail "a second line after an earlier empty close"
exec 3>&-
empty=$(cat new/empty1)
assert_eq ubuntu-cuda-devel "$(cat "instances/$empty/image")" "an earlier empty close applies nothing"

# The close of a removed spec is not the close of the file that has its
# name now; rm before the close cancels the removed one.
exec 3>new/gone1
printf 'offer=%s\n' "$offer" >&3
rm new/gone1
exec 4>new/gone1
printf 'offer=%s\n' "$offer" >&4
exec 3>&-
sleep 0.3
printf 'image=ubuntu-cuda-devel\n' >&4 || fail "the second spec of that name was applied early"
exec 4>&-
gone=$(cat new/gone1)
assert_eq ubuntu-cuda-devel "$(cat "instances/$gone/image")" "the new spec is whole"
assert_eq 2 "$(sim_count "POST $RC/instances")" "and the removed one was never sent"

cd /
unmount_gpufs
