#!/bin/bash
# The manual pages are the contract: they render without warnings, and they
# name every option, config key, file, ctl verb and provider status word that
# the code and a live mount show.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

MAN=$GPUFS_SRCDIR/man
command -v groff >/dev/null || { echo "SKIP: no groff"; exit 77; }

# text PAGE: the page as plain text, one long line per paragraph.
text() {
	groff -man -Tascii -P-cbou -rLL=1000n -rHY=0 "$1" 2>/dev/null
}

for page in gpufs.1 gpufs.conf.5 gpufs-sim.1; do
	groff -ww -z -man "$MAN/$page" 2>"$WORK/groff.err"
	assert_eq "" "$(cat "$WORK/groff.err")" "groff -ww renders $page without warnings"
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$MAN/$page" 2>"$WORK/man.err" >"$WORK/man.out"
		assert_eq "" "$(cat "$WORK/man.err")" "man -l renders $page without warnings"
		[ -s "$WORK/man.out" ] || fail "man -l $page printed nothing"
	fi
	text "$MAN/$page" >"$WORK/$page.txt"
done

# documented PAGE WORD WHAT: WORD appears in PAGE's text.
documented() {
	grep -qF -- "$2" "$WORK/$1.txt" || fail "$1 does not mention $2 ($3)"
}

# Every option gpufs --help lists before the FUSE options.
"$GPUFS" --help | sed '/^FUSE options:/q' >"$WORK/help"
opts=$({
	grep -oE -- '-o [a-z_]+=?' "$WORK/help" | sed 's/^-o //'
	sed 's/-o [a-z_]*//g' "$WORK/help" | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' | sed 's/^[ ,]//'
} | sort -u)
[ "$(echo "$opts" | wc -l)" -ge 10 ] || fail "too few options found in --help: $opts"
for opt in $opts; do documented gpufs.1 "$opt" "gpufs --help"; done
pass "gpufs.1 documents every option of gpufs --help ($(echo $opts | wc -w))"

opts=$("$GPUFS_SIM" --help | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*=?' | sed 's/^[ ,]//' | sort -u)
[ "$(echo "$opts" | wc -l)" -ge 10 ] || fail "too few options found in gpufs-sim --help"
for opt in $opts; do documented gpufs-sim.1 "$opt" "gpufs-sim --help"; done
pass "gpufs-sim.1 documents every option of gpufs-sim --help"

# Every config key the code reads: the loader's own keys, and every lookup
# in an account's options or in [gpufs].
# block FILE START: from the line matching START to the first "};".
block() {
	awk -v start="$2" 'index($0, start) { on = 1 } on { print } on && /};/ { exit }' "$1"
}
own=$(block "$GPUFS_SRCDIR/src/config.c" 'own_keys[] = {' | grep -oE '"[a-z_]+"' | tr -d '"')
[ -n "$own" ] || fail "cannot find own_keys in src/config.c"
looked=$(grep -rhoE '(options|global), "[a-z0-9_]+"' "$GPUFS_SRCDIR/src" | grep -oE '"[a-z0-9_]+"' | tr -d '"')
for key in $own $looked; do documented gpufs.conf.5 "$key =" "a config key src/ reads"; done
pass "gpufs.conf.5 documents every config key ($(echo $own $looked | tr ' ' '\n' | sort -u | wc -w))"
documented gpufs.1 "gpufs.conf(5)" "see also"

# Provider-only spec keys, from each module's pass-through table.
# section NAME: the text of gpufs.1's PROVIDERS subsection NAME.
section() {
	{
		echo ".TH SECTION 1"
		sed -n "/^\.SS $1\$/,/^\.S[SH]/p" "$MAN/gpufs.1"
	} >"$WORK/section.man"
	[ "$(wc -l <"$WORK/section.man")" -gt 2 ] || fail "gpufs.1 has no subsection $1"
	text "$WORK/section.man"
}
for p in runcrate:Runcrate vastai:Vast.ai novita:Novita; do
	mod=${p%%:*}
	title=${p#*:}
	section "$title" >"$WORK/$mod.txt"
	src=$GPUFS_SRCDIR/src/providers/$mod.c
	fields=$(block "$src" 'passthrough_fields[] = {' | grep -oE '\{"[A-Za-z0-9_]+"' | tr -d '{"')
	[ "$mod" = runcrate ] && fields=$(grep -oE 'strcmp\(field, "[a-z0-9_]+"\)' "$src" | grep -oE '"[a-z0-9_]+"' | tr -d '"')
	[ -n "$fields" ] || fail "no pass-through fields found in $src"
	for f in $fields; do
		grep -qF "$mod.$f" "$WORK/$mod.txt" || fail "gpufs.1 ($title) does not mention $mod.$f"
	done
	pass "gpufs.1 documents $mod's pass-through keys: $(echo $fields)"
	grep -qE '^ +(not yet implemented|ctl verbs)' "$WORK/$mod.txt" || fail "$title: no ctl verbs"
done

# A live mount with the three providers: every name in the tree, every ctl
# verb and every provider status word is in gpufs.1.
start_sim --demo
cat >"$WORK/config" <<-CONF
[runcrate]
api_key = rc_live_sim
url = $SIM_URL$RC
[vastai]
api_key = vast_sim
url = $SIM_URL/vastai/api/v0
[novita]
api_key = nv_sim
url = $SIM_URL/novita/gpu-instance/openapi/v1
CONF
chmod 600 "$WORK/config"
mount_gpufs
for name in $(ls "$MNT"); do
	case $name in runcrate | vastai | novita) continue ;; esac
	documented gpufs.1 "$name" "a file at the root"
done
for p in runcrate:Runcrate vastai:Vast.ai novita:Novita; do
	mod=${p%%:*}
	for name in $(ls "$MNT/$mod"); do documented gpufs.1 "$name" "a file of $mod accounts"; done
	n=0
	for dir in "$MNT/$mod"/instances/*/; do
		for name in $(ls "$dir"); do
			grep -qxF "$name" "$WORK/seen" 2>/dev/null && continue
			echo "$name" >>"$WORK/seen"
			# Common files in the tree's list, provider files in its section.
			grep -qE "^ {7}$name( |$)|^ +$name\$" "$WORK/gpufs.1.txt" ||
				grep -qF "$name" "$WORK/$mod.txt" ||
				fail "gpufs.1 does not document $mod's instance file $name"
		done
		for verb in $(cat "$dir/ctl"); do
			grep -qE "(^|[ ,])$verb([ ,.:]|\$)" "$WORK/$mod.txt" ||
				fail "gpufs.1 ($mod) does not list the ctl verb $verb"
		done
		word=$(cat "$dir/provider_status")
		[ -z "$word" ] || grep -qiF "$word" "$WORK/$mod.txt" ||
			fail "gpufs.1 ($mod) does not map the status word $word"
		grep -qxE 'pending|running|stopping|stopped|terminating|terminated|error' "$dir/status" ||
			fail "$dir/status is $(cat "$dir/status"), not a documented status"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "the demo has no $mod instance"
	pass "gpufs.1 documents $mod's files, ctl verbs and status words ($n instances)"
	rm -f "$WORK/seen"
done
unmount_gpufs
