#!/bin/sh
# wait-running.sh INSTANCE-DIR [SECONDS]
#
# Waits until a gpufs instance is running, then prints its ssh line.
# Fails (exit 1) as soon as it is in error or gone, and after SECONDS
# (default 600).  INSTANCE-DIR is e.g. /gpu/runcrate/instances/5f0c1a2e or
# /gpu/runcrate/by-name/train-1.
#
#   ./wait-running.sh /gpu/runcrate/by-name/train-1 && ssh ...
set -eu

dir=${1:?usage: wait-running.sh INSTANCE-DIR [SECONDS]}
limit=${2:-600}
waited=0
while :; do
	# gpufs re-reads the status at most once per ttl and polls in the
	# background: a plain loop of cat is cheap.
	status=$(cat "$dir/status" 2>/dev/null) || status=gone
	case $status in
	running)
		cat "$dir/ssh"
		exit 0
		;;
	error | terminating | terminated | gone)
		echo "wait-running: $dir is $status: $(cat "$dir/error" 2>/dev/null)" >&2
		exit 1
		;;
	esac
	if [ "$waited" -ge "$limit" ]; then
		echo "wait-running: $dir still $status after ${limit}s" >&2
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
