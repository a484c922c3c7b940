#!/bin/bash
# The gpufs benchmark: speed, API economy and scale, side by side with the
# FUSE floor, printed as one table.  Run by `make bench`; never a test.
# Starts its own gpufs-sim and mounts, and always stops and unmounts them.
set -eu

: "${GPUFS:?run through make bench}" "${GPUFS_SIM:?}" "${BENCH_BIN:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpufs-bench.XXXXXX")
PIDS=()
MOUNTS=()

cleanup() {
	for m in "${MOUNTS[@]}"; do fusermount3 -uz "$m" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 124' INT TERM

if [ -n "${SANITIZED:-}" ]; then
	echo "warning: this build has sanitizers ($SANITIZED): figures are slower than real;" >&2
	echo "         contrib/dev.sh bench measures a plain build." >&2
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

# 1. Hot open+read+close, interleaved with tmpfs and a minimal FUSE fs.
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
tmpfs_file=/dev/shm/gpufs-bench.$$
echo running >"$tmpfs_file"
id=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '[.data[] | select(.status == "running")][0].id')
status=$MNT/runcrate/instances/$id/status
cat "$status" >/dev/null
"$BENCH_BIN/hotread" 31 2000 "$tmpfs_file" "$WORK/floor/value" "$WORK/plain/value" "$status" \
	>"$WORK/hot.txt"
rm -f "$tmpfs_file"
t_tmpfs=$(sed -n 1p "$WORK/hot.txt" | cut -d' ' -f2)
t_floor=$(sed -n 2p "$WORK/hot.txt" | cut -d' ' -f2)
t_plain=$(sed -n 3p "$WORK/hot.txt" | cut -d' ' -f2)
t_gpufs=$(sed -n 4p "$WORK/hot.txt" | cut -d' ' -f2)
r=$(awk -v a="$t_gpufs" -v b="$t_tmpfs" 'BEGIN { print a / b }')
row "1. hot open+read+close (median us)" "$t_gpufs" \
	"tmpfs $t_tmpfs; FUSE floor (no open) $t_floor; plain FUSE $t_plain" \
	"$(ratio "$t_gpufs" "$t_tmpfs")" "<= 1.5x tmpfs" "$(met "$r <= 1.5")"

# 2. Cold read of one instance file vs the sim's own round trip.
ids=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '.data[].id' | head -n 21)
cold=()
for i in $ids; do
	cold+=("$("$BENCH_BIN/hotread" 1 1 "$MNT/runcrate/instances/$i/name" | cut -d' ' -f2)")
done
t_cold=$(printf '%s\n' "${cold[@]}" | sort -n | sed -n 11p)
rtt=()
for i in $ids; do
	rtt+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "$AUTH" "$SIM$RC/instances/$i" |
		awk '{ printf "%.2f", $1 * 1e6 }')")
done
t_rtt=$(printf '%s\n' "${rtt[@]}" | sort -n | sed -n 11p)
extra=$(awk -v a="$t_cold" -v b="$t_rtt" 'BEGIN { printf "%.0f", a - b }')
row "2. cold read of one file (median us)" "$t_cold" "sim GET round trip $t_rtt" \
	"+${extra} us" "<= +2000 us" "$(met "$extra <= 2000")"
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

# 5. 10,000 instances: wall times and the daemon's peak memory.
start_sim big --instances 10000
mount_gpufs big "$SIM" -o ttl=600
s=$(date +%s.%N)
ls -l "$MNT/runcrate/instances" >/dev/null
t_ls=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
s=$(date +%s.%N)
(cd "$MNT/runcrate/instances" && cat ./*/status >/dev/null)
t_cat=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$GPUFS_PID/status")
row "5a. ls -l instances, 10,000 (s)" "$t_ls" "-" "-" "<= 1 s" "$(met "$t_ls <= 1")"
row "5b. cat instances/*/status, 10,000 (s)" "$t_cat" "-" "-" "<= 1 s" "$(met "$t_cat <= 1")"
row "5c. daemon peak RSS, 10,000 (MiB)" "$rss" "-" "-" "<= 64 MiB" "$(met "$rss <= 64")"
unmount "$MNT"

# 6. A scripted query: cat of ip vs curl + jq against the sim.
mount_gpufs query "$SIM" -o ttl=600
id=$(curl -sf -H "$AUTH" "$SIM$RC/instances" | jq -r '.data[0].id')
ip=$MNT/runcrate/instances/$id/ip
cat "$ip" >/dev/null
n=200
s=$(date +%s%N)
for _ in $(seq $n); do cat "$ip" >/dev/null; done
t_cat=$((($(date +%s%N) - s) / n / 1000))
s=$(date +%s%N)
for _ in $(seq $n); do curl -sf -H "$AUTH" "$SIM$RC/instances/$id" | jq -r .data.ip >/dev/null; done
t_curl=$((($(date +%s%N) - s) / n / 1000))
# The same cat of a tmpfs file: what fork and exec alone cost here.
echo 10.0.0.1 >"/dev/shm/gpufs-bench-ip.$$"
s=$(date +%s%N)
for _ in $(seq $n); do cat "/dev/shm/gpufs-bench-ip.$$" >/dev/null; done
t_tmp=$((($(date +%s%N) - s) / n / 1000))
rm -f "/dev/shm/gpufs-bench-ip.$$"
row "6. scripted query per run (us)" "cat $t_cat" "curl+jq $t_curl; cat on tmpfs $t_tmp" \
	"$(ratio "$t_curl" "$t_cat") faster" ">= 20x faster" "$(met "$t_curl / $t_cat >= 20")"
unmount "$MNT"

{
	printf 'what\tgpufs\treference\tratio\ttarget\tmet\n'
	printf '%s\n' "${ROWS[@]}"
} >"$WORK/table.tsv"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(free -g | awk '/Mem:/ { print $2 }') GiB, kernel $(uname -r), $("$GPUFS" --version | tail -n 1)"
column -t -s "$(printf '\t')" "$WORK/table.tsv"
