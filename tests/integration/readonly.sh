#!/bin/bash
# -o ro: everything reads, nothing reaches a mutating endpoint.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo
mount_gpufs -o ro
cd "$MNT/runcrate"
offer=$(sed -n 2p offers | cut -f 1)
id=$(ls instances | head -n 1)
[ -n "$(cat "instances/$id/status")" ] || fail "reads work"
sim_reset
assert_fails "no spec file can be made" sh -c "printf 'offer=%s\n' $offer > new/x"
assert_fails "no ctl write" sh -c "echo terminate > instances/$id/ctl"
# Whatever is written, however: every verb, every writable-looking file,
# truncation, cp and tee into new/, renames and removals.
for verb in terminate stop start restart delete reboot; do
	assert_fails "ctl $verb" sh -c "echo $verb > instances/$id/ctl"
done
assert_fails "tee into ctl" sh -c "echo terminate | tee instances/$id/ctl"
assert_fails "truncate ctl" truncate -s 0 "instances/$id/ctl"
assert_fails "write to name" sh -c "echo other > instances/$id/name"
printf 'offer=%s\n' "$offer" >"$WORK/spec"
assert_fails "cp a spec into new/" cp "$WORK/spec" new/y
assert_fails "tee a spec into new/" sh -c "tee new/z < $WORK/spec"
assert_fails "touch in new/" touch new/t
assert_fails "rm -rf an instance" rm -rf "instances/$id"
assert_fails "mv an instance" mv "instances/$id" instances/x
test -d "instances/$id" || fail "the instance is still there"
assert_eq 0 "$(sim_count mutating)" "nothing mutating was sent"
assert_eq 0 "$(sim_count "POST $RC/instances")" "no create"
assert_eq 0 "$(sim_count "DELETE $RC/instances/{id}")" "no delete"
cd /
unmount_gpufs
