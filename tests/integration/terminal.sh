#!/bin/sh
# The terminal, under a pseudo-terminal made by script(1): while the guest
# runs, input is raw (Ctrl-C reaches the guest as the byte 0x03 instead of
# stopping the run, nothing is echoed), Ctrl-A Ctrl-A sends one Ctrl-A,
# Ctrl-A x ends the run with status 130, and afterwards the terminal's
# settings are what they were.  The same guest with the same bytes from a
# pipe gets them all unfiltered.
set -u
builddir=${builddir:-.}
trapeze=$builddir/trapeze
guest=$builddir/tests/guests/serial-input.elf
command -v script > /dev/null 2>&1 || exit 77
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

no() { echo "FAIL: $*"; fail=1; }

# The keys come late enough for the guest to be waiting in hlt (raw mode
# is on by then), and stdin stays open until the run is over.
{ sleep 1; printf 'a\003'; sleep 0.3; printf '\001\001b'; sleep 0.3
  printf '\001x'; sleep 2; } |
	script -qec "stty -g > '$tmp/before'; '$trapeze' run '$guest';
		     echo status=\$?; stty -g > '$tmp/after'" /dev/null \
	> "$tmp/out" 2>&1
tr -d '\r' < "$tmp/out" > "$tmp/log"
grep -qx "got 'a'" "$tmp/log" || no "no 'a' reached the guest"
grep -qx "got 0x3" "$tmp/log" || no "Ctrl-C did not reach the guest"
[ "$(grep -cx 'got 0x1' "$tmp/log")" -eq 1 ] ||
	no "Ctrl-A Ctrl-A did not give exactly one Ctrl-A"
grep -qx "got 'b'" "$tmp/log" || no "no 'b' after Ctrl-A Ctrl-A"
grep -q "trapeze: quit (Ctrl-A x) at rip" "$tmp/log" ||
	no "Ctrl-A x did not say it ended the run"
grep -qx "status=130" "$tmp/log" || no "Ctrl-A x: not exit status 130"
grep -q "^a" "$tmp/log" && no "the terminal echoed input"
[ -s "$tmp/before" ] && cmp -s "$tmp/before" "$tmp/after" ||
	no "the terminal's settings were not restored"

# --timeout in raw mode: the settings come back too.
{ sleep 3; } |
	script -qec "'$trapeze' run --timeout 0.5 '$guest'; echo status=\$?;
		     stty -g > '$tmp/after2'" /dev/null > "$tmp/out2" 2>&1
grep -q "status=124" "$tmp/out2" || no "timeout: not exit status 124"
cmp -s "$tmp/before" "$tmp/after2" || no "timeout: settings not restored"

# From a pipe nothing is filtered: Ctrl-A x is two bytes for the guest.
printf 'a\003\001xq' | "$trapeze" run "$guest" > "$tmp/pipe" 2>&1
st=$?
[ $st -eq 1 ] || no "pipe: exit status $st, expected 1"
grep -qx "got 0x1" "$tmp/pipe" && grep -qx "got 'x'" "$tmp/pipe" ||
	no "pipe: Ctrl-A x did not reach the guest as bytes"

[ $fail -eq 0 ] || cat "$tmp/log"
exit $fail
