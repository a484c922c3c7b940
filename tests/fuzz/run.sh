#!/bin/bash
# Runs every libFuzzer target over its checked-in corpus for FUZZ_TIME
# seconds (3 in make check).  New inputs go to a temporary directory, not the
# source tree; a crash leaves its input in the log and fails.  Skips (77) when
# clang could not build libFuzzer programs.
set -eu
: "${GPUFS_SRCDIR:?run through make check}"
build=${FUZZ_BUILDDIR:-$PWD}
time=${FUZZ_TIME:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/gpufs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "$(cat "$build/tests/fuzz/have-libfuzzer" 2>/dev/null)" != yes ]; then
	echo "SKIP: $build/tests/fuzz: clang cannot build libFuzzer programs"
	exit 77
fi
status=0
for name in spec runcrate vastai novita; do
	corpus=$GPUFS_SRCDIR/tests/fuzz/corpus/$name
	mkdir -p "$work/$name"
	# detect_leaks: the mappers must not leak on any input either.
	if ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$name" -max_total_time="$time" \
		-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$work/$name-" "$work/$name" "$corpus" >"$work/$name.log" 2>&1; then
		echo "ok - fuzz_$name: $(grep -m1 'stat::number_of_executed_units' "$work/$name.log")"
	else
		echo "FAIL: fuzz_$name"
		tail -n 60 "$work/$name.log"
		for crash in "$work/$name"-*; do
			[ -f "$crash" ] || continue
			echo "---- $crash (base64):"
			base64 "$crash"
		done
		status=1
	fi
done
exit $status
