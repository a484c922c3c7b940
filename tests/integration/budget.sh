#!/bin/bash
# max_cost_per_hour: a spec that would take the pending + running total above
# the account's cap, or the mount's ([gpufs]) cap, is refused before anything
# is rented, with the figures in the spec file.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

POST="POST $RC/instances"
start_sim --demo

# The demo's pending and running instances cost 4.98 + 0.44 + 0.39 + 2.49 =
# 8.30 USD/h (the errored and the terminated ones do not count).
spec() {
	printf '%b' "$1" >"$WORK/spec"
}

write_config "max_cost_per_hour = cheap"
if "$GPUFS" -f -o "config=$WORK/config" "$MNT" 2>"$WORK/err"; then
	fail "gpufs mounted with max_cost_per_hour = cheap"
fi
grep -q 'max_cost_per_hour = "cheap"' "$WORK/err" || fail "names the bad cap: $(cat "$WORK/err")"
pass "a cap that is not a number stops the mount"

write_config "max_cost_per_hour = 9"
mount_gpufs -o ttl=1
cd "$MNT/runcrate"
sim_reset
spec 'offer=bold-tesla-a6000-fa6f\n'
cp "$WORK/spec" new/under || fail "cp of a spec"
case "$(head -n 1 new/under)" in "" | error*) fail "0.49 on top of 8.30 fits under 9: $(cat new/under)" ;; esac
assert_eq 1 "$(sim_count "$POST")" "the create under the cap was sent"

spec 'offer=quirky-lovelace-a100-7c3e\n'
cp "$WORK/spec" new/over || fail "cp of a spec"
assert_eq "error: refused before renting: this offer costs 1.29 USD/h and account [runcrate] already runs 8.79 USD/h; together 10.08 exceeds max_cost_per_hour = 9" \
	"$(cat new/over)" "the spec file names the figures"

spec 'gpu_type=h100-sxm\ngpu_count=2\n'
cp "$WORK/spec" new/over2 || fail "cp of a spec"
grep -q "costs 4.98 USD/h" new/over2 || fail "priced as the 2x h100: $(cat new/over2)"
pass "gpu_type and gpu_count pick the price"

spec 'offer=no-such-offer\n'
cp "$WORK/spec" new/unpriced || fail "cp of a spec"
grep -q "max_cost_per_hour is set but offer \"no-such-offer\" is not in runcrate/offers" new/unpriced ||
	fail "says the price is unknown: $(cat new/unpriced)"
pass "an unknown price is refused under a cap"
assert_eq 1 "$(sim_count "$POST")" "nothing refused reached the provider"
cd /
unmount_gpufs

# The mount-wide cap in [gpufs] counts every account's instances.
write_config
printf '[gpufs]\nmax_cost_per_hour = 9.5\n' >>"$WORK/config"
mount_gpufs -o ttl=1
cd "$MNT/runcrate"
sim_reset
spec 'gpu_type=rtx4090\n'
cp "$WORK/spec" new/fits || fail "cp of a spec"
case "$(head -n 1 new/fits)" in "" | error*) fail "0.39 on top of 8.79 fits under 9.5: $(cat new/fits)" ;; esac
spec 'gpu_type=a6000\n'
cp "$WORK/spec" new/over3 || fail "cp of a spec"
grep -q "and the whole mount (\[gpufs\]) already runs 9.18 USD/h; together 9.67 exceeds max_cost_per_hour = 9.5" \
	new/over3 || fail "names the mount's figures: $(cat new/over3)"
pass "the [gpufs] cap names the figures"
assert_eq 1 "$(sim_count "$POST")" "only the create under the cap was sent"
cd /
unmount_gpufs
