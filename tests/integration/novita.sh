#!/bin/bash
# Novita end to end through a mount: listing across pages, the detail files,
# create, stop/start/restart/terminate through ctl, offers, and bad specs that
# send nothing (the sim's request counts prove it).
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

NV=/novita/gpu-instance/openapi/v1

# Two instances per page: the demo's five live ones take three pages.
start_sim --demo --page-size 2
umask 077
printf '[novita]\napi_key = nv_sim\nurl = %s%s\n' "$SIM_URL" "$NV" >"$WORK/config"
chmod 600 "$WORK/config"
mount_gpufs -o ttl=1
cd "$MNT/novita"

# The demo's deleted instance leaves the list a few steps after start-up.
five_instances() { [ "$(ls instances | wc -l)" = 5 ]; }
wait_until 20 "five demo instances" five_instances
pass "instances/ lists every instance across pages"
sim_reset
sleep 1.2
ls instances >/dev/null
[ "$(sim_count "GET $NV/gpu/instances")" -ge 3 ] || fail "a listing reads three pages"
pass "a listing reads every page"

assert_eq running "$(cat by-name/train-1/status)" "train-1 is running"
assert_eq stopped "$(cat by-name/notebook/status)" "exited reads as stopped"
assert_eq exited "$(cat by-name/notebook/provider_status)" "provider_status keeps the word"
assert_eq error "$(cat by-name/bad-image/status)" "statusError reads as error"
grep -q "pull image failed" by-name/bad-image/error || fail "error holds statusError's message"
pass "error holds statusError's message"

t=by-name/train-1
case "$(cat $t/ssh)" in "ssh root@"*" -p "*) pass "ssh holds a command" ;;
*) fail "ssh: [$(cat $t/ssh)]" ;; esac
[ -n "$(cat $t/ip)" ] || fail "ip is filled from the full object"
grep -qx '8888/http .*:[0-9]*' $t/ports || fail "ports: [$(cat $t/ports)]"
[ -n "$(cat $t/jupyter)" ] || fail "jupyter holds its address"
[ -n "$(cat $t/web_terminal)" ] || fail "web_terminal holds its address"
pass "detail files are filled"
grep -q sshCommand $t/json || fail "json is the full object"
if grep -qi -e password -e sim-secret $t/json $t/* 2>/dev/null; then
	fail "a password is exposed"
fi
pass "no password in any file"
assert_eq 0.35 "$(cat $t/cost_per_hour)" "cost_per_hour in USD per hour"
assert_eq 16 "$(cat $t/cpu_cores)" "string numbers read as numbers"
assert_eq as-sgp-2 "$(cat $t/region)" "region is the cluster id"
assert_eq 2.98 "$(cat by-name/infer-a/cost_per_hour)" "cost counts every GPU (2 x 1.49)"

assert_eq "$(printf 'offer\tgpu_type\tgpu_count\tcpu_cores\tmemory_gb\tdisk_gb\tregion\tcost_per_hour\tavailable')" \
	"$(head -n 1 offers)" "offers has the common columns"
grep -q '^4090.16c62g	RTX 4090 24GB	1	16	62	6144	' offers || fail "offers: $(cat offers)"
grep -q '^h100[^	]*	.*	no$' offers || fail "an undeployable product is shown as not available: $(cat offers)"
pass "availability is shown"
assert_eq 3090.16c62g "$(sed -n 2p offers | cut -f 1)" "offers are cheapest first"
assert_eq 0.21 "$(sed -n 2p offers | cut -f 8)" "offer prices in USD per hour"

# Bad specs: nothing reaches the provider.
sim_reset
# A whole-spec refusal is in the spec file (close(2) does not carry it).
printf 'offer=4090.16c62g\n' >"$WORK/bad1"
cp "$WORK/bad1" new/bad1 || fail "cp of a spec"
grep -q "image=" new/bad1 && grep -q "disk_gb=" new/bad1 ||
	fail "the spec file names the missing keys: $(cat new/bad1)"
pass "the spec file names the missing keys"
assert_fails "a bad novita.kind line fails its write" \
	sh -c 'printf "offer=4090.16c62g\nnovita.kind=tpu\n" > new/bad2'
assert_fails "an undocumented novita field fails its write" \
	sh -c 'printf "novita.gpuType=x\n" > new/bad3'
printf 'gpu_type=RTX 4090\nimage=u\ndisk_gb=20\n' >"$WORK/bad4"
cp "$WORK/bad4" new/bad4 || fail "cp of a spec"
assert_spec_error "gpu_type= is refused" new/bad4 gpu_type
assert_eq 0 "$(sim_count "POST $NV/gpu/instance/create")" "bad specs send nothing"
printf 'offer=3090.16c62g\nimage=u\ndisk_gb=2000\n' >"$WORK/big"
cp "$WORK/big" new/big || fail "cp of a spec"
grep -q "rootfsSize" new/big || fail "the refusal is in the spec file: $(cat new/big)"
assert_eq 1 "$(sim_count "POST $NV/gpu/instance/create")" "a refused create is one POST"

# Create, then the life cycle.
printf 'offer=4090.16c62g\nimage=ubuntu:22.04\ndisk_gb=20\ngpu_count=2\nenv.A=b\nnovita.ports=8888/http,22/tcp\n' \
	>new/nv1 || fail "create nv1"
id=$(head -n 1 new/nv1)
case "$id" in "" | error*) fail "new/nv1 reads back an id, not [$id]" ;; esac
pass "the spec file reads back the new id"
assert_eq 2 "$(sim_count "POST $NV/gpu/instance/create")" "one more create"
assert_eq nv1 "$(cat "instances/$id/name")" "the name defaults to the spec file's name"
assert_eq 2 "$(cat "instances/$id/gpu_count")" "gpu_count= is gpuNum"
assert_eq 20 "$(cat "instances/$id/disk_gb")" "disk_gb= is rootfsSize"
# json comes with the full object, not the listing: as the instance moves
# on, the background poll fetches it again and raises IN_MODIFY.
# watch_modify FILE: an inotifywait for IN_MODIFY on FILE, once it watches.
watch_modify() {
	: >"$WORK/iw.err"
	inotifywait -t 30 -e modify "$1" >/dev/null 2>"$WORK/iw.err" &
	watcher=$!
	wait_until 5 "inotifywait to watch $1" grep -q "Watches established" "$WORK/iw.err"
}
grep -q '"id"' "instances/$id/json" || fail "json of the new instance"
watch_modify "instances/$id/json"
wait_until 20 "nv1 to run" grep -qx running "instances/$id/status"
pass "the instance reaches running"
wait "$watcher" || fail "no IN_MODIFY on json while the instance started"
pass "a detail file is refreshed by the poll when the instance changes"

# The same while another process reads json: the change a read found first
# is still told.
printf 'offer=4090.16c62g\nimage=ubuntu:22.04\ndisk_gb=20\n' >new/nv2 || fail "create nv2"
id2=$(head -n 1 new/nv2)
case "$id2" in "" | error*) fail "new/nv2 reads back an id, not [$id2]" ;; esac
grep -q '"id"' "instances/$id2/json" || fail "json of nv2"
watch_modify "instances/$id2/json"
(while sleep 0.3; do cat "instances/$id2/json" >/dev/null 2>&1 || exit 0; done) &
reader=$!
wait_until 20 "nv2 to run" grep -qx running "instances/$id2/status"
wait "$watcher" || fail "no IN_MODIFY on json while it was read and the instance started"
kill "$reader" 2>/dev/null || true
wait "$reader" 2>/dev/null || true
pass "a detail file's change found by a read is told too"
echo terminate >"instances/$id2/ctl" || fail "terminate nv2"
sim_reset

grep -qx stop "instances/$id/ctl" || fail "ctl lists its verbs: $(cat "instances/$id/ctl")"
pass "ctl lists its verbs"
assert_fails "delete is no verb" sh -c "echo delete > instances/$id/ctl"

echo stop >"instances/$id/ctl" || fail "echo stop > ctl"
assert_eq 1 "$(sim_count "POST $NV/gpu/instance/stop")" "stop is one POST"
wait_until 20 "nv1 to stop" grep -qx stopped "instances/$id/status"
pass "stop -> stopped"
assert_fails "a stopped instance cannot stop again" sh -c "echo stop > instances/$id/ctl"
grep -q "cannot stop" "instances/$id/error" || fail "error says why: $(cat "instances/$id/error")"
pass "the error file says why"

echo start >"instances/$id/ctl" || fail "echo start > ctl"
assert_eq "" "$(cat "instances/$id/error")" "a good verb clears the error"
wait_until 20 "nv1 to start" grep -qx running "instances/$id/status"
pass "start -> running"

echo restart >"instances/$id/ctl" || fail "echo restart > ctl"
assert_eq 1 "$(sim_count "POST $NV/gpu/instance/restart")" "restart is one POST"
sleep 1.2
wait_until 20 "nv1 to run after restart" grep -qx running "instances/$id/status"
pass "restart -> running"

echo terminate >"instances/$id/ctl" || fail "echo terminate > ctl"
assert_eq 1 "$(sim_count "POST $NV/gpu/instance/delete")" "terminate is one delete"
terminated() {
	grep -qxE 'terminating|terminated' "instances/$id/status" || [ ! -e "instances/$id" ]
}
wait_until 20 "nv1 to terminate" terminated
pass "terminate -> terminating"

cd /
unmount_gpufs

# A quiet account costs a listing per poll and no detail GET: held detail
# files are fetched again only when their instance is listed in another
# state than the one they were rendered at.
mount_gpufs -o ttl=600,poll=1
cd "$MNT/novita"
grep -q '"id"' by-name/train-1/json || fail "json of train-1"
cat by-name/train-1/ip by-name/train-1/ssh >/dev/null
sim_reset
sleep 3.5
[ "$(sim_count "GET $NV/gpu/instances")" -ge 6 ] || fail "the poll lists every second"
pass "the poll lists while detail files are held"
assert_eq 0 "$(sim_count "GET $NV/gpu/instance")" "a quiet poll fetches no detail"
grep -q '"id"' by-name/train-1/json || fail "json still reads"
cd /
unmount_gpufs
