#!/bin/sh
# build.sh TARGET SOURCE: compiles a libFuzzer target with $FUZZ_CC, or, when
# tests/fuzz/have-libfuzzer says clang cannot, writes a stand-in that exits 77.
set -eu
target=$1
source=$2
if [ "$(cat tests/fuzz/have-libfuzzer)" != yes ]; then
	printf '#!/bin/sh\nexit 77\n' >"$target"
	chmod +x "$target"
	exit 0
fi
echo "  FUZZ     $target"
# shellcheck disable=SC2086 # the flag lists are word lists
exec $FUZZ_CC $FUZZ_CFLAGS -o "$target" "$source" $FUZZ_SRCS $FUZZ_LIBS
