#!/bin/bash
# 64 concurrent cold readers of one file share one request.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo --latency-ms 300
mount_gpufs -o ttl=60
id=$(curl -sf -H "Authorization: Bearer rc_live_sim" "$SIM_URL$RC/instances" | jq -r '.data[0].id')
sim_reset
readers=
for i in $(seq 64); do
	cat "$MNT/runcrate/instances/$id/status" >"$WORK/out.$i" &
	readers="$readers $!"
done
# shellcheck disable=SC2086
wait $readers # not a bare wait: the sim and gpufs are our children too
assert_eq 1 "$(cat "$WORK"/out.* | sort -u | wc -l)" "all 64 readers read the same"
assert_eq 1 "$(sim_count "GET $RC/instances/{id}")" "64 cold readers, one GET"
assert_eq 0 "$(sim_count "GET $RC/instances")" "and no listing"
unmount_gpufs
