#!/bin/sh
# create-cheapest.sh MOUNTPOINT GPU [NAME] [IMAGE]
#
# Creates one instance from the cheapest offer, over every account, whose
# gpu_type contains GPU (case-insensitive: "a100", "RTX 4090"), and prints
# its directory.  NAME defaults to gpu-<date>; IMAGE is sent as image= when
# given.  Nothing is created when no offer matches.
#
#   dir=$(./create-cheapest.sh /gpu a6000 train-2 ubuntu-cuda-devel)
#   ./wait-running.sh "$dir"
set -eu

mnt=${1:?usage: create-cheapest.sh MOUNTPOINT GPU [NAME] [IMAGE]}
gpu=${2:?usage: create-cheapest.sh MOUNTPOINT GPU [NAME] [IMAGE]}
name=${3:-gpu-$(date +%Y%m%d-%H%M%S)}
image=${4:-}

# /offers: a header, then account offer gpu_type ... cost_per_hour, one
# offer per line, tab-separated, cheapest first: the first match wins.
tab=$(printf '\t')
line=$(tail -n +2 "$mnt/offers" | while IFS=$tab read -r account offer gpu_type rest; do
	case $(printf '%s' "$gpu_type" | tr '[:upper:]' '[:lower:]') in
	*$(printf '%s' "$gpu" | tr '[:upper:]' '[:lower:]')*)
		printf '%s\t%s\n' "$account" "$offer"
		break
		;;
	esac
done)
if [ -z "$line" ]; then
	echo "create-cheapest: no offer with a GPU matching \"$gpu\" in $mnt/offers" >&2
	exit 1
fi
account=${line%%"$tab"*}
offer=${line#*"$tab"}

spec=$mnt/$account/new/$name
text=$(printf 'name=%s\noffer=%s' "$name" "$offer")
[ -z "$image" ] || text=$(printf '%s\nimage=%s' "$text" "$image")
# The create runs when the file is closed.  A shell does not report a failed
# close, so read the file back: the new id, or "error: <reason>".
printf '%s\n' "$text" >"$spec" || true
id=$(head -n 1 "$spec")
case $id in
"" | error:*)
	echo "create-cheapest: $account: ${id:-nothing created}" >&2
	exit 1
	;;
esac
echo "$mnt/$account/instances/$id"
