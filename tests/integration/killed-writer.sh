#!/bin/bash
# A spec whose writer a signal killed (Ctrl-C in `cat > new/job`, kill,
# timeout) creates nothing, however complete its lines so far: gpufs(1),
# CREATING.  Each writer is a `cat` from a fifo, so the test decides when
# it has written everything and when it dies; the cases differ in when
# gpufs sees the close: while the writer is a zombie, or after its parent
# reaped it.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo
mount_gpufs -o ttl=1
cd "$MNT/runcrate"
offer=$(sed -n 2p offers | cut -f 1)
spec=$(printf 'offer=%s\nimage=ubuntu-cuda-devel\n' "$offer")
sim_reset

# start_writer NAME: `cat FIFO > new/NAME` under a parent bash, with the
# whole spec written; sets WRITER (cat) and PARENT.  Ctrl-C reaches cat
# with SIGINT's default action, which a background job would not have.
# bash opens the file in the child, so cat's is the last close (dash opens
# it in the parent, whose close then comes after the reap).
start_writer() {
	mkfifo "$WORK/fifo.$1"
	bash -c 'env --default-signal=INT cat "$1" > "$2"; sleep 60' sh "$WORK/fifo.$1" "new/$1" &
	PARENT=$!
	TEST_PIDS="$TEST_PIDS $PARENT"
	exec 3<>"$WORK/fifo.$1" # read-write: never waits for cat to open it
	printf '%s\n' "$spec" >&3
	wait_until 10 "new/$1 to hold the spec" grep -q '^image=' "new/$1"
	WRITER=$(pgrep -P "$PARENT" -x cat)
	[ -n "$WRITER" ] || fail "no writer under $PARENT"
}

state() { awk '/^State:/ { print $2 }' "/proc/$1/status"; }
is_stopped() { [ "$(state "$1")" = T ]; }
is_zombie() { [ "$(state "$1")" = Z ]; }
is_gone() { [ ! -e "/proc/$1" ]; }

end_writer() {
	exec 3>&-
	kill "$PARENT" 2>/dev/null || true
	wait "$PARENT" 2>/dev/null || true
}

# 1. Ctrl-C: gpufs sees the close while the writer is a zombie (its parent
# is stopped, so it cannot reap it).
start_writer ctrl-c
kill -STOP "$PARENT"
wait_until 10 "cat's parent to stop" is_stopped "$PARENT" # or it may reap cat still
kill -INT "$WRITER"
wait_until 10 "the interrupted cat to end" is_zombie "$WRITER"
assert_spec_error "Ctrl-C in cat > new/ctrl-c creates nothing" new/ctrl-c "killed by signal 2"
kill -CONT "$PARENT"
end_writer
assert_eq 0 "$(sim_count "POST $RC/instances")" "no create for an interrupted writer"
grep -q 'new/ctrl-c: writer killed by signal 2' "$WORK/gpufs.log" ||
	fail "the log says why new/ctrl-c was not created"
pass "the log says why"

# The refused file is restarted as any refused spec is: written again with >.
printf '%s\n' "$spec" >new/ctrl-c || fail "printf > new/ctrl-c again"
id=$(head -n 1 new/ctrl-c)
case "$id" in "" | error*) fail "a spec written again creates: [$id]" ;; esac
pass "written again, it creates"
assert_eq 1 "$(sim_count "POST $RC/instances")" "one create, from the second writer"

# 2. kill -9, and gpufs sees the close only after the writer is reaped:
# its exit status is then known only to pidfs (Linux 6.15 and later).
IFS=. read -r major minor _ <<<"$(uname -r)"
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[!0-9]*}" -ge 15 ]; }; then
	start_writer killed
	cd / # nothing may ask the stopped daemon, not even for a relative path
	kill -STOP "$GPUFS_PID"
	wait_until 10 "gpufs to stop" is_stopped "$GPUFS_PID"
	kill -KILL "$WRITER"
	wait_until 10 "the killed cat to be reaped" is_gone "$WRITER"
	kill -CONT "$GPUFS_PID"
	cd "$MNT/runcrate"
	assert_spec_error "kill -9 of the writer creates nothing, seen after the reap" new/killed \
		"killed by signal 9"
	end_writer
	assert_eq 1 "$(sim_count "POST $RC/instances")" "still one create"
else
	echo "# skipped: kernel $(uname -r) keeps no exit status for a reaped writer"
fi

# 3. The same writer ending at its fifo's end creates: the check tells a
# finished writer from a killed one, not every cat from printf.
start_writer finished
exec 3>&-
wait_until 10 "cat to end" is_gone "$WRITER"
id=$(head -n 1 new/finished)
case "$id" in "" | error*) fail "a writer that ended creates: [$id]" ;; esac
pass "a writer that ends at end of input creates"
end_writer
assert_eq 2 "$(sim_count "POST $RC/instances")" "two creates in all"

# 4. A script killed after it closed two whole specs, while gpufs still
# creates the first (a slow provider): both are created, since its writer
# was alive when each was closed.  Its parent is stopped, so the script is
# still unreaped when gpufs reads the closes, on any kernel.
curl -sf -X POST "$SIM_URL/_sim/fault" \
	-d "{\"kind\":\"latency\",\"route\":\"POST $RC/instances\",\"ms\":2000,\"count\":1}" \
	>/dev/null || fail "sim refused the latency fault"
cat >"$WORK/two-specs" <<'EOF'
printf '%s\n' "$1" > new/first
printf '%s\n' "$1" > new/second
exec sleep 60
EOF
bash -c 'bash "$1" "$2" & wait' sh "$WORK/two-specs" "$spec" &
PARENT=$!
TEST_PIDS="$TEST_PIDS $PARENT"
closed_both() {
	script=$(pgrep -P "$PARENT" -x sleep) && [ -n "$script" ]
}
wait_until 10 "the script to close both specs" closed_both
sleep 0.3 # gpufs has read both closes
kill -STOP "$PARENT"
wait_until 10 "its parent to stop" is_stopped "$PARENT"
kill -TERM "$script"
wait_until 10 "the killed script to end" is_zombie "$script"
for name in first second; do
	id=$(head -n 1 "new/$name")
	case "$id" in "" | error*) fail "new/$name, closed before its writer was killed: [$id]" ;; esac
done
pass "specs closed before their writer was killed are created"
kill -CONT "$PARENT"
wait "$PARENT" 2>/dev/null || true
assert_eq 4 "$(sim_count "POST $RC/instances")" "four creates in all"

# 5. A killed writer and a holder that never writes, each with its own
# open of the spec: the holder's close, read after the writer's while
# gpufs is busy creating another spec, does not undo the kill.
curl -sf -X POST "$SIM_URL/_sim/fault" \
	-d "{\"kind\":\"latency\",\"route\":\"POST $RC/instances\",\"ms\":3000,\"count\":1}" \
	>/dev/null || fail "sim refused the latency fault"
bash -c 'exec sleep 60 >> new/held' &
holder=$!
TEST_PIDS="$TEST_PIDS $holder"
wait_until 10 "the holder to open new/held" test -e new/held
exec 3>&-
start_writer held
printf '%s\n' "$spec" >new/slow || fail "printf > new/slow"
sleep 0.5 # gpufs is now creating new/slow
kill -STOP "$PARENT"
wait_until 10 "cat's parent to stop" is_stopped "$PARENT"
kill -KILL "$WRITER"
wait_until 10 "the killed cat to end" is_zombie "$WRITER"
sleep 0.3
kill "$holder"
wait "$holder" 2>/dev/null || true
assert_spec_error "a holder's close after a killed writer's keeps the kill" new/held \
	"killed by signal 9"
kill -CONT "$PARENT"
end_writer
id=$(head -n 1 new/slow)
case "$id" in "" | error*) fail "new/slow: [$id]" ;; esac
assert_eq 5 "$(sim_count "POST $RC/instances")" "five creates in all"

cd /
unmount_gpufs
