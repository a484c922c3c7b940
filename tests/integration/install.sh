#!/bin/bash
# make install into a DESTDIR, then use what it installed as a user would:
# mount(8) and an fstab line (mount.fuse3 finds gpufs in its PATH), the
# systemd unit's commands, and bash, zsh and fish completion.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"
: "${GPUFS_BUILDDIR:?run through make check}" "${GPUFS_BINDIR:?run through make check}"

DEST=$WORK/dest
env -u MAKEFLAGS -u MFLAGS make -s -C "$GPUFS_BUILDDIR" install DESTDIR="$DEST" \
	>"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "make install"; }
bin=$DEST$GPUFS_BINDIR
for f in "$bin/gpufs" "$bin/gpufs-sim"; do [ -x "$f" ] || fail "not installed: $f"; done
for page in man1/gpufs.1 man5/gpufs.conf.5 man1/gpufs-sim.1; do
	[ -n "$(find "$DEST" -path "*/man/$page")" ] || fail "not installed: $page"
done
unit=$(find "$DEST" -path '*/systemd/user/gpufs@.service')
completion=$(find "$DEST" -path '*/bash-completion/completions/gpufs')
zsh_completion=$(find "$DEST" -path '*/zsh/site-functions/_gpufs')
fish_completion=$(find "$DEST" -path '*/fish/vendor_completions.d/gpufs.fish')
[ -f "$unit" ] || fail "no systemd user unit installed"
[ -f "$completion" ] || fail "no bash completion installed"
[ -f "$zsh_completion" ] || fail "no zsh completion installed"
[ -f "$fish_completion" ] || fail "no fish completion installed"
for ex in wait-running create-cheapest stop-idle cost-summary; do
	[ -x "$(find "$DEST" -path "*/examples/$ex.sh")" ] || fail "example $ex.sh not installed"
done
pass "make install installs the programs, man pages, unit, completion and examples"

# The installed unit runs the installed gpufs, restarts on failure and
# unmounts on stop.
grep -qx "ExecStart=$GPUFS_BINDIR/gpufs -f \$GPUFS_OPTIONS %h/%I" "$unit" || fail "ExecStart: $(grep ExecStart= "$unit")"
grep -qx "Restart=on-failure" "$unit" || fail "no Restart=on-failure"
grep -qE "^ExecStop=/.*fusermount3 -u %h/%I\$" "$unit" || fail "ExecStop: $(grep ExecStop= "$unit")"
pass "the unit's ExecStart, Restart and ExecStop"

start_sim
write_config
cp "$WORK/config" "$WORK/gpufs.conf"

# The unit's commands, with %h/%I as systemd expands them for gpufs@gpu, run
# by hand: start, use, stop (ExecStop), and the daemon exits 0.
home=$WORK/home
expand() { sed -n "s/^$1=-\{0,1\}//p" "$unit" | sed "s|%h|$home|g; s|%I|gpu|g; s|^$GPUFS_BINDIR/|$bin/|; s|\$GPUFS_OPTIONS|-oconfig=$WORK/gpufs.conf|"; }
expand ExecStartPre | while read -r cmd; do $cmd 2>/dev/null || true; done
[ -d "$home/gpu" ] || fail "ExecStartPre did not make the mountpoint"
$(expand ExecStart) >"$WORK/gpufs.log" 2>&1 &
GPUFS_PID=$!
MNT=$home/gpu
wait_until 10 "the unit's gpufs to mount" is_mounted
[ -d "$MNT/runcrate/instances" ] || fail "the unit's mount shows no account"
$(expand ExecStop) || fail "ExecStop failed"
rc=0
wait "$GPUFS_PID" || rc=$?
GPUFS_PID=
assert_eq 0 "$rc" "the unit's gpufs exits 0 on ExecStop"
MNT=$WORK/mnt

# mount(8) runs mount.fuse3, which runs "gpufs SOURCE MOUNTPOINT -o ..."
# from a sanitized PATH (/usr/local/bin first): in a private mount
# namespace, the installed bin directory stands in for /usr/local/bin.
if ! command -v unshare >/dev/null || ! command -v mount.fuse3 >/dev/null || [ "$(id -u)" != 0 ]; then
	echo "SKIP: mount(8) needs root, unshare and mount.fuse3"
	exit 77
fi
echo "runcrate  $MNT  fuse.gpufs  config=$WORK/gpufs.conf,noauto,nofail,_netdev,x-systemd.automount,nosuid,nodev  0  0" >"$WORK/fstab"
cat >"$WORK/ns.sh" <<-NS
	set -eu
	mount --make-rprivate /
	mount --bind "$bin" /usr/local/bin
	mount -t fuse.gpufs none "$MNT" -o "config=$WORK/gpufs.conf,rw,nosuid,nodev,noatime"
	grep " $MNT fuse.gpufs " /proc/mounts
	ls "$MNT"
	umount "$MNT"
	if grep -q " $MNT " /proc/mounts; then echo "still mounted"; exit 1; fi
	mount -T "$WORK/fstab" "$MNT"
	grep " $MNT fuse.gpufs " /proc/mounts
	ls "$MNT"
	cat "$MNT/runcrate/offers" | head -n 1
	umount "$MNT"
	if mount -t fuse.gpufs nosuchaccount "$MNT" -o "config=$WORK/gpufs.conf" 2>&1; then
		echo "mounted an unknown account"; exit 1
	fi
	echo done
NS
timeout 60 unshare --mount bash "$WORK/ns.sh" >"$WORK/ns.log" 2>&1 || { cat "$WORK/ns.log"; fail "mount(8) in a namespace"; }
grep -q "^gpufs $MNT fuse.gpufs rw,nosuid,nodev,noatime" "$WORK/ns.log" || fail "mount -t fuse.gpufs none: $(cat "$WORK/ns.log")"
grep -qx runcrate "$WORK/ns.log" || fail "no account under the mount: $(cat "$WORK/ns.log")"
pass "mount -t fuse.gpufs none MOUNTPOINT -o config=..., then umount"
grep -q "^gpufs:runcrate $MNT fuse.gpufs rw,nosuid,nodev" "$WORK/ns.log" || fail "fstab line: $(cat "$WORK/ns.log")"
grep -qx "offer	gpu_type	gpu_count	cpu_cores	memory_gb	disk_gb	region	cost_per_hour	available" "$WORK/ns.log" || fail "no offers through the fstab mount"
pass "an fstab line with noauto,nofail,_netdev,x-systemd.* mounts the account"
grep -q "no account \[nosuchaccount\]" "$WORK/ns.log" || fail "unknown account: $(cat "$WORK/ns.log")"
pass "mount(8) with an unknown account fails and says so"
grep -qx done "$WORK/ns.log" || fail "the namespace script did not finish"
is_mounted && fail "a mount leaked out of the namespace"

# Bash completion: the installed script completes every gpufs option.
command -v bash >/dev/null
out=$(bash -c '. "$1"; COMP_WORDS=(gpufs -o "$2"); COMP_CWORD=2; _gpufs; printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" lo)
assert_eq "loglevel=" "$out" "completion of -o lo"
# gpufs's own -o options, as --help writes them (ttl=, ro): every
# completion must know each.
options=$("$GPUFS" --help | sed '/^FUSE options:/q' | grep -oE -- '-o [a-z_]+=?' | sed 's/^-o //')
for opt in $options; do
	grep -qE "(^|[ \"])$opt( |\$)" "$completion" || fail "completion lacks -o $opt"
done
pass "bash completion knows every gpufs -o option"

# zsh and fish completion are tried in an empty directory (no directory
# to offer), with a configuration that names the account work.
mkdir -p "$WORK/empty" "$WORK/xdg/gpufs"
printf '[work]\napi_key = x\n[gpufs]\n' >"$WORK/xdg/gpufs/config"

# zsh completion: compinit takes the installed file for gpufs, and it
# knows every gpufs -o option.
if command -v zsh >/dev/null; then
	zsh -n "$zsh_completion" || fail "the zsh completion does not parse"
	registered=$(zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit
		compinit -u -d "$2"; print -r -- ${_comps[gpufs]}' _ \
		"$(dirname "$zsh_completion")" "$WORK/zcompdump")
	assert_eq _gpufs "$registered" "zsh's compinit completes gpufs with the installed _gpufs"
	for opt in $options; do
		grep -q "'${opt%=}\[" "$zsh_completion" || fail "zsh completion lacks -o $opt"
	done
	pass "zsh completion knows every gpufs -o option"
	# Driven as a user would: a tab after what was typed.
	complete_zsh() {
		(cd "$WORK/empty" && XDG_CONFIG_HOME=$WORK/xdg timeout 30 zsh -f \
			"$GPUFS_SRCDIR/tests/integration/zsh-complete.zsh" \
			"$(dirname "$zsh_completion")" "$1")
	}
	assert_eq "gpufs -o loglevel=" "$(complete_zsh "gpufs -o lo")" "zsh completes -o lo"
	assert_eq "gpufs work" "$(complete_zsh "gpufs wo")" "zsh completes an account as SOURCE"
else
	echo "# skipped: no zsh"
fi

# fish completion: fish finds the installed file by the command's name,
# for a gpufs in PATH, and offers what a tab would (complete -C).
if command -v fish >/dev/null; then
	fish -n "$fish_completion" || fail "the fish completion does not parse"
	complete_fish() {
		(cd "$WORK/empty" && PATH=$bin:$PATH XDG_CONFIG_HOME=$WORK/xdg \
			timeout 30 fish --no-config -c \
			'set fish_complete_path $argv[1] $fish_complete_path; complete -C $argv[2]' \
			"$(dirname "$fish_completion")" "$1" | cut -f 1)
	}
	assert_eq "loglevel=" "$(complete_fish "gpufs -o lo")" "fish completes -o lo"
	assert_eq "ro,loglevel=info" "$(complete_fish "gpufs -o ro,loglevel=i")" \
		"fish completes the last of an -o list"
	assert_eq "work" "$(complete_fish "gpufs wo")" "fish completes an account as SOURCE"
	for opt in $options; do
		grep -qE "(^|[ ])$opt( |\$)" "$fish_completion" || fail "fish completion lacks -o $opt"
	done
	pass "fish completion knows every gpufs -o option"
else
	echo "# skipped: no fish"
fi
