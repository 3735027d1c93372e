#!/bin/bash
# Unmodified xv6 (x86) under Trapeze: built from the tarball in
# ../shared/conformance (or $XV6_TARBALL), booted from its multiboot
# header with its file system on the primary slave (snapshot=on), driven
# through its shell as a user would type (each line after the prompt),
# and its transcript checked: ls, echo, cat README | wc, mkdir/ln/rm and,
# unless XV6_QUICK is set, usertests to ALL TESTS PASSED.  The image file
# must come out unchanged.  Skipped (77) without the tarball.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
trapeze=$builddir/trapeze
. "$srcdir/scripts/xv6-build"
tarball=$(xv6_tarball "$srcdir")
[ -n "$tarball" ] && [ -f "$tarball" ] || { echo "SKIP: no xv6 tarball"; exit 77; }
tmp=$(mktemp -d) || exit 99
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

xv6=$(xv6_build "$tarball" "$tmp") || { echo "FAIL: xv6 does not build"; exit 99; }
cp "$xv6/fs.img" "$tmp/fs.orig"

# ---- run: a line at each prompt ---------------------------------------------------
timeout=${XV6_TIMEOUT:-1200}
coproc XV6 { exec "$trapeze" run --mem 512M --timeout "$timeout" \
	--drive "file=$xv6/fs.img,index=1,snapshot=on" "$xv6/kernel" \
	> "$tmp/out" 2> "$tmp/err"; }
pid=$XV6_PID
prompts() { grep -o '\$ ' "$tmp/out" | wc -l; }
# Wait until the shell has printed its n-th prompt (or the run ended).
# Shortly before the timeout, Ctrl-P asks xv6 for its process list, so
# that a transcript that never got there shows where everyone waits.
started=$SECONDS
wait_prompt() {
	while [ "$(prompts)" -lt "$1" ]; do
		kill -0 $pid 2>/dev/null || return 1
		if [ $((SECONDS - started)) -ge $((timeout - 10)) ] &&
		   [ -z "${dumped:-}" ]; then
			printf '\020' >&"${XV6[1]}"
			dumped=1
		fi
		sleep 0.2
	done
}
cmds=("ls" "echo hello from xv6" "cat README | wc" "mkdir d" "ln README d/r"
      "cat d/r | wc" "rm d/r" "ls d")
[ -z "${XV6_QUICK:-}" ] && cmds+=("usertests")
n=1
for c in "${cmds[@]}"; do
	wait_prompt $n || break
	printf '%s\n' "$c" >&"${XV6[1]}"
	typed=$SECONDS
	n=$((n + 1))
done
wait_prompt $n
last=$((SECONDS - ${typed:-$SECONDS}))
kill $pid 2>/dev/null
wait $pid 2>/dev/null

fail=0
no() { echo "FAIL: $*"; fail=1; }
has() { grep -qF -- "$1" "$tmp/out" || { no "no '$1' in the transcript"; return 1; }; }
has "init: starting sh"
has "README         2 2 "
has "usertests      2 "
has "hello from xv6"
# wc of README as the host counts it: lines, words, bytes, name.
set -- $(wc "$xv6/README")
[ "$(grep -c -- "^$1 $2 $3 *$" "$tmp/out")" -ge 2 ] ||
	no "cat README | wc (twice, through d/r) did not print '$1 $2 $3'"
grep -q "^\.  *1 " "$tmp/out" || no "ls does not list ."
if [ -z "${XV6_QUICK:-}" ]; then
	has "ALL TESTS PASSED" &&
		echo "xv6: usertests passed, $last s from typing it to the prompt after"
fi
cmp -s "$xv6/fs.img" "$tmp/fs.orig" || no "snapshot=on changed the image"
if [ $fail -ne 0 ]; then
	echo "--- transcript"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"
fi
exit $fail
