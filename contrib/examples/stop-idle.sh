#!/bin/sh
# stop-idle.sh [-n] [--terminate] MOUNTPOINT STATE
#
# Stops every instance, in every account, whose status is STATE (e.g.
# running).  An instance whose ctl does not list "stop" (Runcrate has no
# stop) is left alone and named, unless --terminate is given: then it is
# terminated instead, which destroys its disk.  -n only prints what would
# be done.  Prints one line per instance: ACTION DIRECTORY.
#
#   ./stop-idle.sh -n /gpu running           # look first
#   ./stop-idle.sh /gpu running
set -eu

dry=
terminate=
while [ $# -gt 0 ]; do
	case $1 in
	-n) dry=1 ;;
	--terminate) terminate=1 ;;
	-*) echo "stop-idle: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || { echo "usage: stop-idle.sh [-n] [--terminate] MOUNTPOINT STATE" >&2; exit 2; }
mnt=$1
state=$2
case $state in
pending | running | stopping | stopped | terminating | terminated | error) ;;
*) echo "stop-idle: \"$state\" is not a status (see gpufs(1))" >&2; exit 2 ;;
esac

status=0
for dir in "$mnt"/*/instances/*/; do
	dir=${dir%/}
	[ -f "$dir/status" ] || continue
	[ "$(cat "$dir/status")" = "$state" ] || continue
	# ctl lists the verbs this instance takes, one per line.
	if grep -qx stop "$dir/ctl"; then
		verb=stop
	elif [ -n "$terminate" ] && grep -qx terminate "$dir/ctl"; then
		verb=terminate
	else
		echo "skip $dir (no stop verb; --terminate to terminate it)"
		continue
	fi
	if [ -n "$dry" ]; then
		echo "would-$verb $dir"
	elif echo "$verb" >"$dir/ctl"; then
		echo "$verb $dir"
	else
		echo "failed-$verb $dir: $(cat "$dir/error")" >&2
		status=1
	fi
done
exit $status
