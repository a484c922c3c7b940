#!/bin/bash
# API keys and provider secrets never show: not in any file of the tree, any
# log line (with -d), any error message, argv or the environment; the mount
# is private and the files that change things are the owner's alone.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

RC_KEY=rc_SECRET_4f1d9a0c7e
NV_KEY=nv_SECRET_8b2e6d1f3a
VA_KEY=va_SECRET_5c9a7e2b1d
# The Vast.ai fake's demo instances carry this jupyter_token.
JUPYTER=53fc448d6644aa7535c6fa5498cdbedc782753e88d81b44090e54dcf1332ed30

start_sim --demo --runcrate-key "$RC_KEY" --novita-key "$NV_KEY" --vastai-key "$VA_KEY" \
	--vastai-gap-ms 0
umask 077
cat >"$WORK/config" <<EOF
[runcrate]
api_key = $RC_KEY
url = $SIM_URL/runcrate/api/v1

[novita]
api_key = $NV_KEY
url = $SIM_URL/novita/gpu-instance/openapi/v1

[vastai]
api_key = $VA_KEY
url = $SIM_URL/vastai/api/v0

[wrongkey]
provider = runcrate
api_key = rc_SECRET_wrong_0000
url = $SIM_URL/runcrate/api/v1
EOF
mount_gpufs -d -o ttl=1
cd "$MNT"

# Mount privacy.
grep " $MNT fuse" /proc/mounts | grep -q allow_other && fail "mounted with allow_other"
grep " $MNT fuse" /proc/mounts | grep -q default_permissions || fail "no default_permissions"
pass "private mount with default_permissions"

# Every file but the blocking events stream, each cat bounded.
read_tree() {
	find . -type f ! -name events -print0 |
		xargs -0 -n 16 timeout 20 cat >>"$WORK/all-files" 2>>"$WORK/read-errors" || true
}

# Exercise: read every file of every account (the wrong key fails, with
# words), create, control, fail, and a rate-limit and a 5xx.
read_tree
runcrate_id=$(ls runcrate/instances | head -n 1)
offer=$(sed -n 2p runcrate/offers | cut -f 1)
printf 'offer=%s\n' "$offer" >runcrate/new/s1 || true
printf 'offer=no-such\n' >runcrate/new/s2 || true
printf 'offer=%s\n' "$offer" >wrongkey/new/s3 || true
echo reboot >"runcrate/instances/$runcrate_id/ctl" 2>/dev/null || true
curl -sf -X POST "$SIM_URL/_sim/fault" -d '{"kind":"5xx","count":3}' >/dev/null
curl -sf -X POST "$SIM_URL/_sim/fault" -d '{"kind":"429","retry_after":"1","count":2}' >/dev/null
sleep 1.1
read_tree
echo terminate >"runcrate/instances/$runcrate_id/ctl" || fail "terminate"
read_tree
[ -s "$WORK/all-files" ] || fail "the tree was read"
grep -q "^stale since\|refused\|API key" "$WORK/all-files" || fail "errors were rendered"
pass "the whole tree was read, with errors in it"

pid=$GPUFS_PID
for key in "$RC_KEY" "$NV_KEY" "$VA_KEY" rc_SECRET_wrong_0000 "$JUPYTER"; do
	for place in "$WORK/all-files" "$WORK/read-errors" "$WORK/gpufs.log" \
		"/proc/$pid/cmdline" "/proc/$pid/environ"; do
		if grep -aqF "$key" "$place"; then
			fail "${key:0:12}... appears in $place"
		fi
	done
done
pass "no key or token in files, logs, argv or environ"
grep -q "GET" "$WORK/gpufs.log" || fail "-d logged requests (the grep saw real log lines)"
pass "the -d log has request lines"
grep -ah '"password" *: *"[^"]' novita/instances/*/json vastai/instances/*/json 2>/dev/null &&
	fail "a password in a json file"
pass "no password values in json files"

# Files that change things are the owner's only.
for f in "runcrate/instances/$runcrate_id/ctl" runcrate/new; do
	mode=$(stat -c %a "$f")
	case $mode in
	*[2367]? | *[2367]) fail "$f is writable by others: $mode" ;;
	esac
done
pass "ctl and new/ are not writable by group or others"

cd /
unmount_gpufs
for key in "$RC_KEY" "$NV_KEY" "$VA_KEY"; do
	grep -aqF "$key" "$WORK/gpufs.log" && fail "a key in the log after unmount"
done
pass "nothing leaked at exit"
