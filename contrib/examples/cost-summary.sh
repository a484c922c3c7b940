#!/bin/sh
# cost-summary.sh MOUNTPOINT
#
# What is running and what it costs: one line per running instance, a total
# per account, and the whole mount per hour, per day and per 30 days.
# Money is USD, as gpufs shows it.
set -eu

mnt=${1:?usage: cost-summary.sh MOUNTPOINT}

for dir in "$mnt"/*/instances/*/; do
	dir=${dir%/}
	[ -f "$dir/status" ] || continue
	[ "$(cat "$dir/status")" = running ] || continue
	account=${dir#"$mnt"/}
	account=${account%%/*}
	printf '%s\t%s\t%s\t%s\t%s\n' "$account" "$(cat "$dir/id")" "$(cat "$dir/name")" \
		"$(cat "$dir/gpu_count")x $(cat "$dir/gpu_type")" "$(cat "$dir/cost_per_hour")"
done | awk -F '\t' -v total="$(cat "$mnt/cost_per_hour")" '
BEGIN { printf "%-12s %-26s %-16s %-20s %10s\n", "ACCOUNT", "ID", "NAME", "GPU", "USD/HOUR" }
{
	printf "%-12s %-26s %-16s %-20s %10.4f\n", $1, $2, $3, $4, $5
	sum[$1] += $5
	n[$1]++
}
END {
	for (a in sum)
		printf "%-12s %d running, %.4f USD/hour\n", a, n[a], sum[a]
	printf "total        %.4f USD/hour, %.2f USD/day, %.2f USD/30 days\n", total, total * 24, total * 720
}'
