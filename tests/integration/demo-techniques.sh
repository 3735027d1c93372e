#!/bin/sh
# trapeze demo techniques: every technique runs the workload to its end,
# and the table says what each is: no calls from translated code but
# under translation, and translation taking fewer host signals than
# patching in place, which takes fewer than pure trapping.
set -u
builddir=${builddir:-.}
out=$("$builddir/trapeze" demo techniques --no-qemu) || {
	echo "FAIL: trapeze demo techniques exited $?"; exit 1; }
printf '%s\n' "$out"
# technique how wall syscall yield spawn signals callouts emulated
row() { printf '%s\n' "$out" | grep "^  $1 " | sed "s/^  $1 *//"; }
fail=0
for t in "pure trapping" "in-place patching" "binary translation" \
	"paravirtualization"; do
	n=$(row "$t" | awk 'NF == 8 && $2 ~ /^[0-9.]+$/ { print "ok" }')
	[ "$n" = ok ] || { echo "FAIL: no figures for $t"; fail=1; }
done
[ $fail = 0 ] || exit 1
sig() { row "$1" | awk '{ print $6 }'; }
call() { row "$1" | awk '{ print $7 }'; }
[ "$(call "pure trapping")" = 0 ] && [ "$(call "in-place patching")" = 0 ] &&
	[ "$(call "paravirtualization")" = 0 ] &&
	[ "$(call "binary translation")" -gt 0 ] ||
	{ echo "FAIL: callouts outside translation, or none in it"; exit 1; }
[ "$(sig "binary translation")" -lt "$(sig "in-place patching")" ] &&
	[ "$(sig "in-place patching")" -lt "$(sig "pure trapping")" ] ||
	{ echo "FAIL: signals do not fall from trapping to patching to" \
		"translation"; exit 1; }
