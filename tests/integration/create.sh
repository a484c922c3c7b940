#!/bin/bash
# Creating through new/, watching it boot, and terminating through ctl.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo
mount_gpufs -o ttl=1
cd "$MNT/runcrate"

offer=$(sed -n 2p offers | cut -f 1)
sim_reset
printf 'offer=%s\nimage=ubuntu-cuda-devel\nenv.HF_HOME=/workspace/hf\nonstart=echo hi\n' "$offer" \
	>new/train1 || fail "printf > new/train1 failed"
id=$(cat new/train1)
case "$id" in "" | error*) fail "new/train1 reads back an id, not [$id]" ;; esac
pass "the spec file reads back the new id"
assert_eq 1 "$(sim_count "POST $RC/instances")" "one create"
assert_eq "train1" "$(cat "instances/$id/name")" "the name defaults to the spec file's name"
assert_eq "../instances/$id" "$(readlink by-name/train1)" "by-name/train1"
grep -qxE 'pending|running' "instances/$id/status" || fail "a new instance is pending"

wait_until 20 "train1 to run" grep -qx running "instances/$id/status"
pass "the instance reaches running"
[ -n "$(cat "instances/$id/ip")" ] || fail "a running instance has an ip"
assert_eq "$(stat -c %s "instances/$id/status")" "$(wc -c <"instances/$id/status")" \
	"stat and wc -c agree after a change"
assert_eq "running" "$(tail -n 1 "instances/$id/status")" "tail after a change"

assert_fails "a spent spec file takes no second spec" \
	sh -c "printf 'offer=%s\n' '$offer' > new/train1"
assert_fails "appending to it neither" sh -c "printf 'offer=%s\n' '$offer' >> new/train1"
assert_eq "$id" "$(cat new/train1)" "it still holds the id"
assert_eq 1 "$(sim_count "POST $RC/instances")" "still one create"

gpu_type=$(sed -n 2p offers | cut -f 2)
printf 'gpu_type=%s\nname=by-type\n' "$gpu_type" >new/gputype || fail "create by gpu_type"
id2=$(cat new/gputype)
assert_eq "by-type" "$(cat "instances/$id2/name")" "create by gpu_type with name="
assert_eq 2 "$(sim_count "POST $RC/instances")" "two creates in all"

# The same with cp: the create runs when cp closes the file.
printf 'offer=%s\n' "$offer" >"$WORK/spec"
cp "$WORK/spec" new/copied || fail "cp of a good spec"
grep -qv '^error' new/copied || fail "cp'd spec created"
pass "cp of a spec creates"

# Specs written while other processes keep reading them: each close is
# seen.  A reader's lookup racing the create used to hide it (see
# gpufs_tree_lookup): the old code lost one of these 30 or more in 8 runs
# of 12 here.
names=$(seq 30)
for i in $names; do
	(for _ in $(seq 100); do cat "new/polled$i" >/dev/null 2>&1 || true; done) &
	reader=$!
	TEST_PIDS="$TEST_PIDS $reader"
	sleep 0.05 # the reader is at it
	printf 'offer=%s\n' "$offer" >"new/polled$i" || fail "printf > new/polled$i"
	wait "$reader" || true
done
for i in $names; do
	first=$(head -n 1 "new/polled$i")
	case "$first" in "" | error* | offer=*) fail "new/polled$i, read while written: [$first]" ;; esac
done
pass "specs read while they are written are created"

assert_fails "runcrate has no stop" sh -c "echo stop > instances/$id/ctl"
grep -q 'stop' "instances/$id/error" || fail "error says why: $(cat "instances/$id/error")"
pass "the error file says why"
assert_eq 0 "$(sim_count "DELETE $RC/instances/{id}")" "nothing deleted by a refused verb"

echo terminate >"instances/$id/ctl" || fail "echo terminate > ctl"
# No waiting: the kernel held status's old value, and must not serve it now.
assert_eq terminated "$(cat "instances/$id/status")" "status is fresh the moment ctl returns"
assert_eq 1 "$(sim_count "DELETE $RC/instances/{id}")" "terminate is one DELETE"
assert_eq "" "$(cat "instances/$id/error")" "a good verb clears the error"

cd /
unmount_gpufs
