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
assert_eq 0 "$(sim_count mutating)" "nothing mutating was sent"
cd /
unmount_gpufs
