#!/bin/sh
# The scanner's translation cache for the top of the address space
# (vmm/engine/bt.h, --cpu=scan): the paging guest's hot loops over the
# top of the address space run from it (traces made, accesses rewritten,
# alias pages mapped, a trace linked to another) with the transcript of
# paging.stdout, QEMU's (same-as-qemu.sh); with --no-translate the same
# transcript comes from emulating every access, and no cache is made.
# On a host without BMI2 there is no cache: SKIP, saying so.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
guest=$builddir/tests/guests/paging.elf
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

no() { echo "FAIL: $*"; fail=1; }

"$builddir/trapeze" run --cpu=scan --stats "$guest" > "$tmp/on" 2> "$tmp/on.err"
st=$?
if grep -q "no translation cache: the host CPU has no BMI2" "$tmp/on.err"
then
	echo "SKIP: this host's CPU has no BMI2 (rorx): no translation cache"
	exit 77
fi
[ $st -eq 1 ] || no "exit status $st, expected 1"
cmp -s "$tmp/on" "$srcdir/tests/integration/paging.stdout" ||
	no "the transcript is not paging.stdout"
stats_re='^trapeze: translation cache, ([0-9]+) traces of ([0-9]+) instructions \(([0-9]+) rewritten for the top 4 GiB\), ([0-9]+) links, ([0-9]+) alias pages mapped, ([0-9]+) flushes$'
line=$(grep -E "$stats_re" "$tmp/on.err")
set -- $(echo "$line" | sed -E "s/$stats_re/\1 \2 \3 \4 \5 \6/")
if [ $# -ne 6 ]; then
	no "no translation cache statistics in: $(cat "$tmp/on.err")"
else
	[ "$1" -gt 0 ] || no "no trace made"
	[ "$3" -gt 0 ] || no "no access rewritten"
	[ "$4" -gt 0 ] || no "no trace linked to another"
	[ "$5" -gt 0 ] || no "no alias page mapped"
fi

"$builddir/trapeze" run --cpu=scan --no-translate --stats "$guest" > "$tmp/off" \
	2> "$tmp/off.err"
st=$?
[ $st -eq 1 ] || no "--no-translate: exit status $st, expected 1"
cmp -s "$tmp/off" "$tmp/on" ||
	no "--no-translate: the transcript differs"
grep -q "translation cache" "$tmp/off.err" &&
	no "--no-translate: a translation cache was made"
exit $fail
