#!/bin/bash
# contrib/examples/*.sh, run as a user would against a mount of gpufs-sim.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

EX=$GPUFS_SRCDIR/contrib/examples
start_sim --demo
cat >"$WORK/config" <<-CONF
[runcrate]
api_key = rc_live_sim
url = $SIM_URL$RC
[novita]
api_key = nv_sim
url = $SIM_URL/novita/gpu-instance/openapi/v1
CONF
chmod 600 "$WORK/config"
mount_gpufs

# create-cheapest: the cheapest a6000 offer over both accounts is Runcrate's.
want=$(tail -n +2 "$MNT/offers" | grep -i a6000 | head -n 1 | cut -f 1,9)
[ -n "$want" ] || fail "the demo has no a6000 offer"
dir=$(sh "$EX/create-cheapest.sh" "$MNT" A6000 ex-1 ubuntu-cuda-devel) || fail "create-cheapest failed"
id=$(basename "$dir")
[ -d "$dir" ] || fail "create-cheapest printed $dir, not a directory"
assert_eq "ex-1" "$(cat "$dir/name")" "create-cheapest names the instance"
assert_eq "$(echo "$want" | cut -f 1)" "$(basename "$(dirname "$(dirname "$dir")")")" \
	"create-cheapest uses the account of the cheapest offer"
assert_eq "$(echo "$want" | cut -f 2)" "$(cat "$dir/cost_per_hour")" "the new instance costs what the offer said"
grep -qi a6000 "$dir/gpu_type" || fail "created with another GPU: $(cat "$dir/gpu_type")"
pass "create-cheapest created from the cheapest matching offer"
assert_fails "create-cheapest refuses a GPU nobody offers" sh "$EX/create-cheapest.sh" "$MNT" no-such-gpu

# wait-running: pending -> running within a few sim steps; prints ssh.
out=$(sh "$EX/wait-running.sh" "$MNT/runcrate/by-name/ex-1" 30) || fail "wait-running failed"
assert_eq running "$(cat "$dir/status")" "wait-running returns once running"
assert_eq "$(cat "$dir/ssh")" "$out" "wait-running prints the ssh line"
bad=$(grep -lx error "$MNT"/runcrate/instances/*/status | head -n 1)
[ -n "$bad" ] || fail "the demo has no instance in error"
assert_fails "wait-running fails on an instance in error" sh "$EX/wait-running.sh" "$(dirname "$bad")" 5

# cost-summary: its total is the mount's cost_per_hour.
sh "$EX/cost-summary.sh" "$MNT" >"$WORK/cost" || fail "cost-summary failed"
total=$(printf '%.4f' "$(cat "$MNT/cost_per_hour")")
grep -q "^total  *$total USD/hour" "$WORK/cost" || fail "cost-summary total is not $total: $(cat "$WORK/cost")"
running=$(grep -lx running "$MNT"/*/instances/*/status | wc -l)
assert_eq "$running" "$(awk '/ running, /{s += $2} END {print s + 0}' "$WORK/cost")" \
	"cost-summary counts every running instance"
grep -q "$id" "$WORK/cost" || fail "cost-summary misses the new instance"
pass "cost-summary"

# stop-idle: -n changes nothing; Runcrate has no stop, so its instances are
# skipped unless --terminate; Novita's running ones are stopped.
rc_running=$(grep -lx running "$MNT"/runcrate/instances/*/status | wc -l)
nv_running=$(grep -lx running "$MNT"/novita/instances/*/status | wc -l)
[ "$nv_running" -gt 0 ] || fail "the demo has no running novita instance"
sh "$EX/stop-idle.sh" -n "$MNT" running >"$WORK/dry" || fail "stop-idle -n failed"
assert_eq "$nv_running" "$(grep -c '^would-stop .*/novita/' "$WORK/dry")" "stop-idle -n names the stops"
assert_eq "$rc_running" "$(grep -c '^skip .*/runcrate/' "$WORK/dry")" "stop-idle skips Runcrate (no stop)"
assert_eq 0 "$(sim_count "POST /novita/gpu-instance/openapi/v1/gpu/instance/stop")" "stop-idle -n sends nothing"
assert_fails "stop-idle refuses a state that is not a status" sh "$EX/stop-idle.sh" "$MNT" idle
sh "$EX/stop-idle.sh" "$MNT" running >"$WORK/stop" || fail "stop-idle failed: $(cat "$WORK/stop")"
assert_eq "$nv_running" "$(grep -c '^stop .*/novita/' "$WORK/stop")" "stop-idle stops Novita's"
assert_eq "$nv_running" "$(sim_count "POST /novita/gpu-instance/openapi/v1/gpu/instance/stop")" "one stop call each"
grep -q '/runcrate/' "$WORK/stop" && ! grep -q '^terminate' "$WORK/stop" || fail "terminated without --terminate"
wait_until 20 "novita's stops to show" sh -c "! grep -qx running $MNT/novita/instances/*/status"
wait_until 20 "a running runcrate instance" grep -qlx running "$MNT/runcrate/by-name/ex-1/status"
sh "$EX/stop-idle.sh" --terminate "$MNT" running >"$WORK/term" 2>&1 || fail "stop-idle --terminate failed: $(cat "$WORK/term")"
grep -q "^terminate $MNT/runcrate/instances/$id\$" "$WORK/term" || fail "--terminate: $(cat "$WORK/term")"
wait_until 20 "ex-1 to terminate" grep -qxE 'terminating|terminated' "$dir/status"
pass "stop-idle --terminate terminates where there is no stop"
unmount_gpufs
