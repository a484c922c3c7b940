#!/bin/bash
# The gpufs benchmark: speed, API economy and scale, side by side with the
# FUSE floor, printed as one table.  Run by `make bench`; never a test.
# Starts its own gpufs-sim and mounts, and always stops and unmounts them.
set -eu

# The figures must not depend on who runs the bench: with LANG=C.UTF-8 and
# no locale archive, every process started here (cat, ls, curl and jq alike)
# first loads about 15 locale files, 0.3-0.45 ms on this kind of machine,
# a quarter of what starting cat costs.  So the bench runs in the C locale, and
# row 6c repeats row 6 in the caller's.
# (Every category counts: any one that is not C loads its file.  The
# timestamps below strip whatever decimal separator the locale uses.)
CALLER_LOCALE=$(locale 2>/dev/null | sed -n '/^LC_ALL=/d; s/^LC_[A-Z]*="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' |
	grep -vx -e C -e POSIX -e '' | sort -u | paste -sd, -)
CALLER_LC_ALL=${LC_ALL-}
export LC_ALL=C

: "${GPUFS:?run through make bench}" "${GPUFS_SIM:?}" "${BENCH_BIN:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpufs-bench.XXXXXX")
# tmpfs references; /dev/shm is a tmpfs wherever systemd or Docker set up.
SHM=$(mktemp -d /dev/shm/gpufs-bench.XXXXXX)
PIDS=()
MOUNTS=()

cleanup() {
	for m in "${MOUNTS[@]}"; do fusermount3 -uz "$m" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 124' INT TERM

if [ -n "${SANITIZED:-}" ]; then
	echo "warning: this build has sanitizers ($SANITIZED): figures are slower than real;" >&2
	echo "         contrib/dev.sh bench measures a plain build." >&2
fi

# BENCH_QUICK=1, for the test that the bench runs at all
# (tests/integration/bench-smoke.sh): few samples and 1,000 instances
# instead of 10,000.  Its figures mean nothing.
if [ -n "${BENCH_QUICK:-}" ]; then
	HOT_ROUNDS=3 HOT_READS=100 QUERY_ROUNDS=10 BIG=1000 BIG_LABEL=1,000
else
	HOT_ROUNDS=31 HOT_READS=2000 QUERY_ROUNDS=200 BIG=10000 BIG_LABEL=10,000
fi

ROWS=()
# row WHAT GPUFS REFERENCE RATIO TARGET MET
row() { ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$@")"); }

wait_for() { # wait_for SECONDS COMMAND...
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "bench: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

mounted() { grep -q " $1 fuse" /proc/mounts; }

start_sim() { # start_sim NAME [options]
	local name=$1
	shift
	"$GPUFS_SIM" --port-file "$WORK/$name.port" "$@" >"$WORK/$name.sim.log" 2>&1 &
	PIDS+=($!)
	wait_for 20 test -s "$WORK/$name.port"
	SIM=http://127.0.0.1:$(cat "$WORK/$name.port")
}

mount_gpufs() { # mount_gpufs NAME SIM_URL [options]: sets MNT and GPUFS_PID
	local name=$1 url=$2
	shift 2
	MNT=$WORK/$name
	mkdir -p "$MNT"
	(umask 077 && printf '[runcrate]\napi_key = rc_live_sim\nurl = %s/runcrate/api/v1\n' \
		"$url" >"$WORK/$name.conf")
	"$GPUFS" -f -o "config=$WORK/$name.conf" "$@" "$MNT" >"$WORK/$name.log" 2>&1 &
	GPUFS_PID=$!
	PIDS+=("$GPUFS_PID")
	MOUNTS+=("$MNT")
	wait_for 10 mounted "$MNT"
}

unmount() { fusermount3 -u "$1"; }

count() { curl -sf "$SIM/_sim/counts" | jq -r --arg k "$1" '.[$k] // 0'; }
reset() { curl -sf -X POST "$SIM/_sim/reset" >/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
met() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo NO; fi; }
RC=/runcrate/api/v1
AUTH="Authorization: Bearer rc_live_sim"

# 1. Hot open+read+close, interleaved with tmpfs and a minimal FUSE fs.  The
# tmpfs file the ratio is taken against has the same path shape as the
# gpufs one (seven components, the same names below the top): a path walk
# costs per component on any filesystem.  A file right in /dev/shm is shown
# too.
start_sim small --demo --instances 50
mount_gpufs hot "$SIM" -o ttl=60
mkdir -p "$WORK/floor" "$WORK/plain"
"$BENCH_BIN/constfs" -o noopen "$WORK/floor" 2>/dev/null &
PIDS+=($!)
MOUNTS+=("$WORK/floor")
"$BENCH_BIN/constfs" "$WORK/plain" 2>/dev/null &
PIDS+=($!)
MOUNTS+=("$WORK/plain")
wait_for 10 mounted "$WORK/floor"
wait_for 10 mounted "$WORK/plain"
id=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '[.data[] | select(.status == "running")][0].id')
status=$MNT/runcrate/instances/$id/status
mkdir -p "$SHM/runcrate/instances/$id"
echo running >"$SHM/runcrate/instances/$id/status"
echo running >"$SHM/value"
cat "$status" >/dev/null
"$BENCH_BIN/hotread" "$HOT_ROUNDS" "$HOT_READS" "$SHM/runcrate/instances/$id/status" "$SHM/value" \
	"$WORK/floor/value" "$WORK/plain/value" "$status" >"$WORK/hot.txt"
t_tmpfs=$(sed -n 1p "$WORK/hot.txt" | cut -d' ' -f2)
t_shallow=$(sed -n 2p "$WORK/hot.txt" | cut -d' ' -f2)
t_floor=$(sed -n 3p "$WORK/hot.txt" | cut -d' ' -f2)
t_plain=$(sed -n 4p "$WORK/hot.txt" | cut -d' ' -f2)
t_gpufs=$(sed -n 5p "$WORK/hot.txt" | cut -d' ' -f2)
r=$(awk -v a="$t_gpufs" -v b="$t_tmpfs" 'BEGIN { print a / b }')
row "1. hot open+read+close (median us)" "$t_gpufs" \
	"tmpfs same path $t_tmpfs, /dev/shm/value $t_shallow; FUSE floor (no open, /value) $t_floor; plain FUSE $t_plain" \
	"$(ratio "$t_gpufs" "$t_tmpfs")" "<= 1.5x tmpfs" "$(met "$r <= 1.5")"

unmount "$MNT"

# 2. Cold read of one instance file vs the sim's own round trip: on a fresh
# mount that never listed, each first read of an instance is one GET.
mount_gpufs cold "$SIM" -o ttl=60
ids=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '.data[].id' | head -n 21)
reset
cold=()
for i in $ids; do
	cold+=("$("$BENCH_BIN/hotread" 1 1 "$MNT/runcrate/instances/$i/name" | cut -d' ' -f2)")
done
t_cold=$(printf '%s\n' "${cold[@]}" | sort -n | sed -n 11p)
cold_gets=$(count "GET $RC/instances/{id}")
cold_lists=$(count "GET $RC/instances")
rtt=()
for i in $ids; do
	rtt+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "$AUTH" "$SIM$RC/instances/$i" |
		awk '{ printf "%.2f", $1 * 1e6 }')")
done
t_rtt=$(printf '%s\n' "${rtt[@]}" | sort -n | sed -n 11p)
extra=$(awk -v a="$t_cold" -v b="$t_rtt" 'BEGIN { printf "%+.0f", a - b }')
row "2. cold read of one file (median us)" "$t_cold ($cold_gets GETs, $cold_lists lists for 21)" \
	"curl's GET round trip $t_rtt" "${extra} us" "<= +2000 us" "$(met "$extra <= 2000")"
unmount "$MNT"

# 3. Requests for ls -l and cat of every file, 1,000 instances.
start_sim thousand --instances 1000
mount_gpufs thousand "$SIM" -o ttl=60
reset
ls -l "$MNT/runcrate/instances" >/dev/null
(cd "$MNT/runcrate/instances" && cat ./*/* >/dev/null)
lists=$(count "GET $RC/instances")
gets=$(count "GET $RC/instances/{id}")
row "3. requests: ls -l + cat */*, 1,000 instances" "$lists list, $gets get" \
	"10 pages of 100" "-" "1 list (+pages), 0 per-instance" "$(met "$gets == 0 && $lists <= 10")"
unmount "$MNT"

# 4. 64 concurrent cold readers of one file.
start_sim slow --demo --latency-ms 200
mount_gpufs slow "$SIM" -o ttl=60
id=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '.data[0].id')
reset
readers=()
for _ in $(seq 64); do
	cat "$MNT/runcrate/instances/$id/status" >/dev/null &
	readers+=($!)
done
wait "${readers[@]}"
n=$(count total)
row "4. 64 concurrent cold readers of one file" "$n request(s)" "-" "-" "1 request" "$(met "$n == 1")"
unmount "$MNT"

# 5. 10,000 instances: wall times and the daemon's peak memory; the same
# commands over the same tree on tmpfs show what the shell and coreutils
# alone cost on this machine.
seconds() { # seconds DIR COMMAND: wall time of COMMAND run in DIR
	local dir=$1 s
	shift
	s=$(date +%s.%N)
	(cd "$dir" && eval "$@" >/dev/null)
	awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'
}
start_sim big --instances "$BIG"
mount_gpufs big "$SIM" -o ttl=600
t_ls=$(seconds "$MNT/runcrate/instances" ls -l)
t_cat=$(seconds "$MNT/runcrate/instances" 'cat ./*/status')
rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$GPUFS_PID/status")
mkdir -p "$SHM/big"
(cd "$SHM/big" && for i in $(seq "$BIG"); do mkdir "$i" && echo running >"$i/status"; done)
r_ls=$(seconds "$SHM/big" ls -l)
r_cat=$(seconds "$SHM/big" 'cat ./*/status')
rm -rf "$SHM/big"
row "5a. ls -l instances, $BIG_LABEL (s)" "$t_ls" "tmpfs $r_ls" "-" "<= 1 s" "$(met "$t_ls <= 1")"
row "5b. cat instances/*/status, $BIG_LABEL (s)" "$t_cat" "tmpfs $r_cat" "-" "<= 1 s" \
	"$(met "$t_cat <= 1")"
row "5c. daemon peak RSS, $BIG_LABEL (MiB)" "$rss" "-" "-" "<= 64 MiB" "$(met "$rss <= 64")"
unmount "$MNT"

# 6. A scripted query: cat of ip vs curl + jq against the sim, and the same
# cat of a tmpfs file (what fork and exec alone cost here).  One run of
# each, round after round, so a slow moment of the machine hits all alike;
# medians.  A process started right after curl | jq costs more (its
# libraries pushed the caches out), so an untimed cat goes first, and the
# two timed ones take turns at going next.
mount_gpufs query "$SIM" -o ttl=600
id=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '[.data[] | select(.ip != null and .ip != "")][0].id')
ip=$MNT/runcrate/instances/$id/ip
tmp_ip=$SHM/ip
cat "$ip" >"$tmp_ip"
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# query_medians: prints the medians of cat, curl | jq and tmpfs cat, in us.
query_medians() {
	local c=() q=() t=() first second s e f g h
	for i in $(seq "$QUERY_ROUNDS"); do
		first=$ip second=$tmp_ip
		[ $((i % 2)) -eq 0 ] || first=$tmp_ip second=$ip
		s=${EPOCHREALTIME//[!0-9]/}
		curl -sf -H "$AUTH" "$SIM$RC/instances/$id" | jq -r .data.ip >/dev/null
		e=${EPOCHREALTIME//[!0-9]/}
		cat /dev/null
		f=${EPOCHREALTIME//[!0-9]/}
		cat "$first" >/dev/null
		g=${EPOCHREALTIME//[!0-9]/}
		cat "$second" >/dev/null
		h=${EPOCHREALTIME//[!0-9]/}
		q+=($((e - s)))
		if [ "$first" = "$ip" ]; then
			c+=($((g - f))) t+=($((h - g)))
		else
			t+=($((g - f))) c+=($((h - g)))
		fi
	done
	echo "$(median "${c[@]}") $(median "${q[@]}") $(median "${t[@]}")"
}
read -r t_cat t_curl t_tmp < <(query_medians)
row "6. scripted query per run (median us)" "cat $t_cat" \
	"curl+jq $t_curl; cat on tmpfs $t_tmp ($(ratio "$t_curl" "$t_tmp"))" \
	"$(ratio "$t_curl" "$t_cat") faster" ">= 20x faster" "$(met "$t_curl / $t_cat >= 20")"
# The same query with the shell's own read: no process to start.
r=()
for _ in $(seq $((QUERY_ROUNDS + 1))); do
	s=${EPOCHREALTIME//[!0-9]/}
	read -r _ <"$ip"
	e=${EPOCHREALTIME//[!0-9]/}
	r+=($((e - s)))
done
t_read=$(median "${r[@]}")
row "6b. the same with read -r ip < ip (median us)" "read $t_read" "curl+jq $t_curl" \
	"$(ratio "$t_curl" "$((t_read > 0 ? t_read : 1))") faster" "(for comparison)" "-"
# The same in the caller's locale, if that is not C.
if [ -n "$CALLER_LOCALE" ]; then
	read -r c_cat c_curl c_tmp < <(
		if [ -n "$CALLER_LC_ALL" ]; then export LC_ALL=$CALLER_LC_ALL; else unset LC_ALL; fi
		query_medians
	) || { echo "bench: row 6c failed in the caller's locale" >&2; exit 1; }
	row "6c. the same in the caller's locale, $CALLER_LOCALE (median us)" "cat $c_cat" \
		"curl+jq $c_curl; cat on tmpfs $c_tmp ($(ratio "$c_curl" "$c_tmp"))" \
		"$(ratio "$c_curl" "$c_cat") faster" "(for comparison)" "-"
fi
unmount "$MNT"

{
	printf 'what\tgpufs\treference\tratio\ttarget\tmet\n'
	printf '%s\n' "${ROWS[@]}"
} >"$WORK/table.tsv"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(free -g | awk '/Mem:/ { print $2 }') GiB, kernel $(uname -r), $("$GPUFS" --version | tail -n 1)"
column -t -s "$(printf '\t')" "$WORK/table.tsv"
