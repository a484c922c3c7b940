#!/bin/bash
# Bad specs and bad ctl writes are refused with an errno the shell sees and a
# reason in a file, and send nothing; rm, rmdir and mv never reach a provider.
. "$GPUFS_SRCDIR/tests/integration/lib.sh"

start_sim --demo
mount_gpufs -o ttl=1
cd "$MNT/runcrate"
offer=$(sed -n 2p offers | cut -f 1)
id=$(ls instances | head -n 1)
sim_reset

assert_fails "unknown key fails the write" sh -c "printf 'offer=%s\ngpu_typo=a100\n' $offer > new/bad1"
grep -q '^error: .*gpu_typo' new/bad1 || fail "new/bad1 names the key: $(cat new/bad1)"
pass "the spec file names the bad key"
assert_fails "bad number" sh -c "printf 'offer=%s\ngpu_count=two\n' $offer > new/bad2"
assert_fails "negative number" sh -c "printf 'offer=%s\ndisk_gb=-5\n' $offer > new/bad3"
assert_fails "line without =" sh -c "printf 'offer %s\n' $offer > new/bad4"
assert_fails "duplicate key" sh -c "printf 'offer=%s\noffer=%s\n' $offer $offer > new/bad5"
assert_fails "another provider's key" sh -c "printf 'offer=%s\nvastai.disk=5\n' $offer > new/bad6"
# Fixed bytes: random ones that happen to start with "{" read as a JSON
# spec, refused at close instead.
assert_fails "binary junk" sh -c "printf '\\001\\377\\376junk\\000\\200\\201\\033[0m' > new/bad7"

# The corpus: each bad spec is refused, at the write that carries the fault
# with the errno tests/integration/bad-specs/EXPECT gives, and with its words
# in the spec file; none sends anything.
corpus=$GPUFS_SRCDIR/tests/integration/bad-specs
head -c 1048576 /dev/zero | tr '\0' '#' >"$WORK/one-mebibyte"
for spec in "$corpus"/* "$WORK/one-mebibyte"; do
	name=$(basename "$spec")
	[ "$name" != EXPECT ] || continue
	line=$(grep -P "^\Q$name\E\t" "$corpus/EXPECT") || fail "bad-specs/EXPECT has no line for $name"
	errno_text=$(printf '%s' "$line" | cut -f 2)
	words=$(printf '%s' "$line" | cut -f 3)
	if [ "$errno_text" = - ]; then
		cp "$spec" "new/$name" || fail "$name: cp of a spec whole only at close"
	else
		assert_fails "bad spec $name" cp "$spec" "new/$name"
		grep -qF "$errno_text" "$WORK/last-stderr" ||
			fail "$name: cp says [$errno_text]: $(cat "$WORK/last-stderr")"
	fi
	head -n 1 "new/$name" | grep -qE "^error: .*$words" ||
		fail "$name: the spec file says [$words]: $(head -c 300 "new/$name")"
done
pass "every bad spec names its fault"
assert_eq 0 "$(sim_count mutating)" "no bad spec of the corpus sent anything"

printf 'image=ubuntu\n' >"$WORK/spec"
cp "$WORK/spec" new/whole || fail "cp of a spec"
assert_spec_error "a spec without offer or gpu_type says what is missing" new/whole offer
tee new/whole2 <"$WORK/spec" >/dev/null || fail "tee of a spec"
assert_spec_error "the same through tee" new/whole2 offer
assert_eq 0 "$(sim_count "POST $RC/instances")" "no bad spec sent anything"

# The provider refuses: the reason is in the file.
printf 'offer=no-such-offer\n' >"$WORK/spec"
cp "$WORK/spec" new/unknown || fail "cp of a spec"
assert_spec_error "the provider's refusal is in the spec file" new/unknown .
assert_eq 1 "$(sim_count "POST $RC/instances")" "that one was sent once"

sim_reset
for verb in "" "reboot" "terminate now" "stop start" "terminat"; do
	assert_fails "ctl refuses [$verb]" sh -c "printf '%s\n' '$verb' > instances/$id/ctl"
	[ -s "instances/$id/error" ] || fail "error explains [$verb]"
done
assert_fails "rm of a value file" rm -f "instances/$id/status"
assert_fails "rm -rf of an instance" rm -rf "instances/$id"
assert_fails "rmdir of an instance" rmdir "instances/$id"
assert_fails "mv of an instance" mv "instances/$id" "instances/x"
assert_fails "mkdir" mkdir "instances/new-one"
assert_fails "touch of a value file" touch "instances/$id/status"
assert_fails "rm -rf of the whole account" rm -rf "$MNT/runcrate"
test -d "instances/$id" || fail "the instance is still there"
assert_eq 0 "$(sim_count mutating)" "none of that reached the provider"

# onstart=@file: read for the owner's own mount, refused on a shared one,
# where another user could make the daemon read a file they cannot.
printf 'echo hi\n' >"$WORK/script"
printf 'image=x\nonstart=@%s\n' "$WORK/script" >new/own || fail "onstart=@ on a private mount"
pass "onstart=@file is accepted on a private mount"
cd /
unmount_gpufs
mount_gpufs -o ttl=1,allow_other
cd "$MNT/runcrate"
sim_reset
assert_fails "onstart=@file on a shared mount" \
	sh -c "printf 'offer=%s\nonstart=@%s\n' $offer $WORK/script > new/shared"
grep -q 'refused on a mount shared' new/shared || fail "new/shared says why: $(cat new/shared)"
pass "the spec file says why"
assert_eq 0 "$(sim_count "POST $RC/instances")" "and nothing was sent"
cd /
unmount_gpufs
