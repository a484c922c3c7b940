#!/bin/bash
# Vast.ai through a mount: the seed's instance, offers, creating from an offer
# and from gpu_type, stop and start, the label through name, logs, 429s, and
# terminate.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

# A 200 ms gap per threshold unit: two creates in a row are sure to meet 429s
# (bundles 200 ms, asks 900 ms), which gpufs must ride out.
start_sim --demo --vastai-gap-ms 200
umask 077
cat >"$WORK/config" <<EOF
[vastai]
api_key = vast_sim
url = $SIM_URL/vastai/api/v0
EOF
chmod 600 "$WORK/config"
mount_gpufs -o ttl=1
cd "$MNT/vastai"
VA=/vastai/api/v0

# ---- the demo instances, the seed's among them
assert_eq "883 4101 4102" "$(ls instances | sort -n | tr '\n' ' ' | sed 's/ $//')" "list"
i=instances/883
assert_eq running "$(cat $i/status)" "seed: status"
assert_eq running "$(cat $i/provider_status)" "seed: provider_status"
assert_eq "" "$(cat $i/name)" "seed: no label, empty name"
assert_eq 63.135.50.11 "$(cat $i/ip)" "seed: ip"
assert_eq "ssh -p 10882 root@ssh2281.vast.ai" "$(cat $i/ssh)" "seed: ssh through the proxy"
assert_eq "RTX A5000" "$(cat $i/gpu_type)" "seed: gpu_type"
assert_eq 1 "$(cat $i/gpu_count)" "seed: gpu_count"
assert_eq 126 "$(cat $i/memory_gb)" "seed: memory_gb"
assert_eq 10 "$(cat $i/disk_gb)" "seed: disk_gb"
assert_eq "Washington, US" "$(cat $i/region)" "seed: region"
assert_eq tensorflow/tensorflow:latest-gpu "$(cat $i/image)" "seed: image"
assert_eq 1.0020740740740741 "$(cat $i/cost_per_hour)" "seed: cost_per_hour"
assert_eq 2025-10-21T01:03:38Z "$(cat $i/created_at)" "seed: created_at"
assert_eq 0.9993661 "$(cat $i/reliability)" "seed: reliability"
assert_eq "" "$(cat $i/gpu_util)" "seed: gpu_util null is empty"
assert_eq 883 "$(jq -r .id $i/json)" "seed: json"
assert_eq error "$(cat instances/4101/status)" "an exited container is an error"
grep -q "OCI runtime create failed" instances/4101/error || fail "error holds status_msg"
pass "error holds status_msg"
for verb in start stop restart reboot terminate; do
	grep -qx "$verb" $i/ctl || fail "ctl lists $verb"
done
pass "ctl lists the verbs"
assert_eq 25 "$(cat balance)" "balance is the credit"

# ---- offers: cheapest first, the filtered-out ones absent
assert_eq "offer	gpu_type	gpu_count	cpu_cores	memory_gb	disk_gb	region	cost_per_hour	available" \
	"$(head -n 1 offers)" "offers header, the common columns"
assert_eq "223344	RTX 3090	1	6	31	80	Quebec, CA	0.221	yes" "$(sed -n 2p offers)" \
	"the cheapest verified offer first"
grep -q '^667788' offers && fail "an unverified offer is listed"
grep -q '^778899' offers && fail "a rented offer is listed"
pass "unverified and rented offers are filtered out"

# ---- create from an offer
sim_reset
printf 'offer=123456\nimage=pytorch/pytorch:latest\nenv.HF_TOKEN=x\nonstart=echo hi\nvastai.runtype=ssh_direct\n' \
	>new/job1 || fail "create from an offer"
id=$(head -n 1 new/job1)
case "$id" in "" | *[!0-9]*) fail "new/job1 reads back an id, not [$id]" ;; esac
pass "the spec file reads back the new id"
assert_eq 1 "$(sim_count "PUT $VA/asks/{id}/")" "one create"
assert_eq job1 "$(cat "instances/$id/name")" "the label is the spec file's name"
grep -qxE 'pending|running' "instances/$id/status" || fail "a new instance is pending"
wait_until 20 "job1 to run" grep -qx running "instances/$id/status"
pass "the instance reaches running"
assert_eq "ssh -p $((40000 + id % 20000)) root@203.0.113.9" "$(cat "instances/$id/ssh")" \
	"ssh_direct: 22/tcp on the public address"
assert_eq 203.0.113.9 "$(cat "instances/$id/ip")" "ip is trimmed"
assert_eq 61 "$(cat "instances/$id/gpu_temp")" "gpu_temp while running"

# ---- a spec error names the offer, creates nothing
printf 'offer=999\nimage=x\n' >"$WORK/bad-offer"
cp "$WORK/bad-offer" new/bad || fail "cp of a spec"
grep -q "^error: .*no offer 999" new/bad || fail "the spec file names the offer: $(cat new/bad)"
pass "the spec file names the offer"
printf 'offer=123456\n' >"$WORK/no-image"
cp "$WORK/no-image" new/noimage || fail "cp of a spec"
assert_spec_error "a spec without image" new/noimage image
assert_fails "a passthrough field Vast.ai does not document" \
	sh -c "printf 'offer=123456\nvastai.bogus=1\n' > new/bogus"

# ---- two creates by gpu_type in a row: the second meets 429s
printf 'gpu_type=RTX_3090\nimage=ubuntu\nname=by-type\n' >new/bytype || fail "create by gpu_type"
printf 'gpu_type=RTX_4090\ngpu_count=2\nimage=ubuntu\n' >new/bytype2 || fail "second create"
id2=$(head -n 1 new/bytype)
assert_eq "# offer 223344: 1 x RTX 3090, 0.221 \$/h, Quebec, CA (the cheapest for gpu_type)" \
	"$(sed -n 2p new/bytype)" "the spec file says which offer was picked"
assert_eq by-type "$(cat "instances/$id2/name")" "create by gpu_type with name="
id3=$(head -n 1 new/bytype2)
assert_eq 2 "$(cat "instances/$id3/gpu_count")" "gpu_count picks the 2-GPU offer"
grep -q "vastai: 429 for" "$WORK/sim.log" || fail "the sim answered no 429"
pass "429s were met and ridden out"

# ---- stop, start
echo stop >"instances/$id/ctl" || fail "echo stop > ctl"
grep -qxE 'stopping|stopped' "instances/$id/status" || fail "stop: $(cat "instances/$id/status")"
wait_until 20 "stopped" grep -qx stopped "instances/$id/status"
pass "stop -> stopped"
case "$(cat "instances/$id/ssh")" in
"ssh -p "*" root@ssh"*.vast.ai) pass "stopped: no 22/tcp mapping, ssh through the proxy" ;;
*) fail "ssh while stopped: $(cat "instances/$id/ssh")" ;;
esac
echo start >"instances/$id/ctl" || fail "echo start > ctl"
wait_until 20 "running again" grep -qx running "instances/$id/status"
pass "start -> running"
assert_fails "an unknown verb" sh -c "echo recycle > instances/$id/ctl"

# ---- the label through name
echo job2 >"instances/$id/name" || fail "echo job2 > name"
assert_eq job2 "$(cat "instances/$id/name")" "name sets the label"
assert_eq "../instances/$id" "$(readlink by-name/job2)" "by-name follows"

# ---- logs: requested, fetched from result_url
grep -q "instance $id (job2): pulling pytorch/pytorch:latest" "instances/$id/logs" ||
	fail "logs: $(cat "instances/$id/logs")"
pass "logs"

# ---- terminate
echo terminate >"instances/$id/ctl" || fail "echo terminate > ctl"
assert_eq 1 "$(sim_count "DELETE $VA/instances/{id}/")" "terminate is one DELETE"
wait_until 10 "terminated" grep -qx terminated "instances/$id/status"
pass "terminate -> terminated"

cd /
unmount_gpufs
