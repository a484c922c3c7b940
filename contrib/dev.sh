#!/bin/sh
# The README's two commands, and what they are made of.
#
#   contrib/dev.sh demo    install build dependencies, build, start gpufs-sim,
#                          mount a demo tree at ./gpu, print what to try
#   contrib/dev.sh check   install dependencies, build with ASan+UBSan, run
#                          every test (unit and integration)
#   contrib/dev.sh stop    unmount ./gpu and stop the demo's gpufs-sim
#   contrib/dev.sh bench   build without sanitizers and print the benchmark table
#   contrib/dev.sh deps    only install the Debian packages
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
demo_dir=$top/.demo
mnt=$top/gpu

# Build: libfuse3, libcurl, json-c, glib, cmocka, autotools.  Tests also use
# coreutils-level tools a user has: curl and jq (to ask the fake provider for
# its request counts) and inotify-tools; clang and its libFuzzer runtime run
# the short fuzzing pass of make check; zsh and fish check their completions.
packages="build-essential autoconf automake pkg-config libfuse3-dev fuse3
	libcurl4-openssl-dev libjson-c-dev libglib2.0-dev libcmocka-dev curl jq inotify-tools
	clang libclang-rt-14-dev zsh fish"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
	missing=
	for p in $packages; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing
}

# build DIR [configure options]: an out-of-tree build under _build/.
build() {
	dir=$top/_build/$1
	shift
	(cd "$top" && [ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi)
	mkdir -p "$dir"
	cd "$dir"
	[ -f Makefile ] || "$top/configure" "$@" >configure.out || {
		tail -n 20 configure.out
		exit 1
	}
	make -j"$(nproc)" >make.out 2>&1 || {
		cat make.out
		exit 1
	}
}

stop() {
	if grep -q " $mnt fuse" /proc/mounts 2>/dev/null; then
		fusermount3 -u "$mnt" || fusermount3 -uz "$mnt"
	fi
	if [ -f "$demo_dir/sim.pid" ]; then
		kill "$(cat "$demo_dir/sim.pid")" 2>/dev/null || true
		rm -f "$demo_dir/sim.pid"
	fi
}

demo() {
	deps
	build demo
	stop
	mkdir -p "$demo_dir" "$mnt"
	rm -f "$demo_dir/port"
	"$top/_build/demo/gpufs-sim" --demo --step 5 --port-file "$demo_dir/port" \
		>"$demo_dir/sim.log" 2>&1 &
	echo $! >"$demo_dir/sim.pid"
	i=0
	until [ -s "$demo_dir/port" ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$demo_dir/sim.log"; exit 1; }
		sleep 0.1
	done
	port=$(cat "$demo_dir/port")
	umask 077
	cat >"$demo_dir/config" <<-CONF
	# A demo account on gpufs-sim, the local fake provider.
	[runcrate]
	api_key = rc_live_sim
	url = http://127.0.0.1:$port/runcrate/api/v1
	[vastai]
	api_key = vast_sim
	url = http://127.0.0.1:$port/vastai/api/v0
	[novita]
	api_key = nv_sim
	url = http://127.0.0.1:$port/novita/gpu-instance/openapi/v1
	CONF
	"$top/_build/demo/gpufs" -o "config=$demo_dir/config" "$mnt"
	offer=$(sed -n 2p "$mnt/runcrate/offers" | cut -f 1)
	cat <<-EOT

	gpufs is mounted at ./gpu against gpufs-sim (fake Runcrate, Vast.ai and Novita
	APIs on 127.0.0.1:$port; nothing real is contacted).
	Try:
	  cat gpu/README                       # the tour of the tree; man -l man/gpufs.1 for all
	  column -t -s '	' gpu/offers          # every provider's offers, cheapest first
	  cat gpu/cost_per_hour
	  grep . gpu/*/instances/*/status
	  cat gpu/vastai/instances/*/ctl       # the verbs each instance takes
	  tail -f gpu/events &                 # changes, as the poll sees them (kill %1)
	  contrib/examples/cost-summary.sh gpu
	  ls gpu/runcrate/instances
	  cat gpu/runcrate/by-name/train-1/ip
	  column -t -s '	' gpu/runcrate/offers
	  printf 'offer=$offer\nimage=ubuntu-cuda-devel\n' > gpu/runcrate/new/train2
	  cat gpu/runcrate/new/train2          # the new instance's id
	  watch cat gpu/runcrate/by-name/train2/status
	  echo terminate > gpu/runcrate/by-name/train2/ctl
	Stop it with: contrib/dev.sh stop
	EOT
}

check() {
	deps
	build check --enable-sanitizers
	cd "$top/_build/check"
	status=0
	make -j"$(nproc)" check >check.out 2>&1 || status=$?
	grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' check.out || true
	if [ "$status" -ne 0 ]; then
		for log in $(grep -lE '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs')); do
			echo "==== ${log%.trs}.log"
			cat "${log%.trs}.log"
		done
	fi
	pass=$(grep -c '^PASS:' check.out || true)
	fail=$(grep -cE '^(FAIL|ERROR|XPASS):' check.out || true)
	skip=$(grep -c '^SKIP:' check.out || true)
	echo "$pass passed, $fail failed, $skip skipped"
	return "$status"
}

case "${1:-}" in
deps) deps ;;
demo) demo ;;
check) check ;;
bench)
	deps
	build bench
	cd "$top/_build/bench" && make bench
	;;
stop) stop ;;
*)
	echo "usage: $0 demo|check|bench|stop|deps" >&2
	exit 2
	;;
esac
