#!/bin/bash
# make bench's script runs to its table and leaves nothing mounted or
# running: BENCH_QUICK takes few samples and 1,000 instances instead of
# 10,000.  Its figures are not looked at: speed is the benchmark's to
# measure (BENCHMARKS.md), never a test's.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

: "${GPUFS_BUILDDIR:?run through make check}"
shm_before=$(find /dev/shm -maxdepth 1 -name 'gpufs-bench.*' | wc -l)
# Its mounts, logs and tmpfs references go under $WORK and /dev/shm; the
# caller's locale is C.UTF-8, so row 6c is measured too.
TMPDIR=$WORK LANG=C.UTF-8 LC_ALL='' BENCH_QUICK=1 BENCH_BIN=$GPUFS_BUILDDIR/tests/bench \
	timeout 150 bash "$GPUFS_SRCDIR/tests/bench/bench.sh" >"$WORK/table" 2>"$WORK/bench.log" &
bench=$!
TEST_PIDS="$TEST_PIDS $bench"
rc=0
wait "$bench" || rc=$?
assert_eq 0 "$rc" "the bench exits 0"
cat "$WORK/table"

rows="1. 2. 3. 4. 5a. 5b. 5c. 6. 6b."
locale -a 2>/dev/null | grep -qix 'c.utf-\{0,1\}8' && rows="$rows 6c."
for row in $rows; do
	grep -q "^$row " "$WORK/table" || fail "the table has no row $row"
done
pass "the table has rows $rows"
grep -q '^machine: ' "$WORK/table" || fail "the table names the machine"
pass "and the machine it ran on"

grep -q "$WORK" /proc/mounts && fail "the bench left a mount: $(grep "$WORK" /proc/mounts)"
pass "nothing is left mounted"
if pgrep -f "$WORK/" >/dev/null; then
	fail "the bench left processes running: $(pgrep -af "$WORK/")"
fi
pass "nothing is left running"
assert_eq "$shm_before" "$(find /dev/shm -maxdepth 1 -name 'gpufs-bench.*' | wc -l)" \
	"the bench removed its tmpfs references"
