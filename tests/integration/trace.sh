#!/bin/sh
# trapeze trace on tests/guests/traced.elf, whose traps are known: exact
# lines for labelled instructions (address from nm, symbol, port, value),
# -c counts against the guest's own loop counts, the filters, -k frames in
# call order, --json that parses, -o, and bad options refused before the
# guest starts.
set -u
builddir=${builddir:-.}
trapeze=$builddir/trapeze
guest=$builddir/tests/guests/traced.elf
jsoncheck=$builddir/tests/tools/jsoncheck
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

no() { echo "FAIL: $*"; fail=1; }

# Trace lines without the sequence number, blanks squeezed.
norm() { sed -E 's/^ *[0-9]+ +//; s/ +/ /g; s/ $//' "$1"; }
addr() { printf '%#x' "0x$(nm "$guest" | awk -v s="$1" '$3 == s { print $1 }')"; }

# ---- exact lines ----------------------------------------------------------
"$trapeze" trace "$guest" > "$tmp/out" 2> "$tmp/trace"
[ $? -eq 1 ] || no "trace: exit status $?, expected 1"
grep -qx 'traced: 5 breakpoints seen' "$tmp/out" ||
	no "the guest's output is not untouched by tracing"
norm "$tmp/trace" > "$tmp/lines"
for want in \
	"kernel $(addr traced_out_H) traced_out_H out dx, al priv port=0x3f8 (COM1 THR) value=0x48 'H'" \
	"kernel $(addr traced_in_lsr) traced_in_lsr in al, dx priv port=0x3fd (COM1 LSR) -> 0x60"
do
	grep -qxF "$want" "$tmp/lines" || no "no line: $want"
done
# The #BP of an int3 follows the int3, at the address after it.
grep -A1 ' int3 priv ' "$tmp/lines" | grep -q ' - exception #BP breakpoint -> handler ' ||
	no "int3 is not followed by its #BP"

# ---- -c: the counts are the guest's own ----------------------------------
count() { # KIND NAME FILE: the events column of that summary row
	awk -v k="$1" -v n="$2" '$5 == k && $6 == n { print $4 }' "$3"
}
"$trapeze" trace -c "$guest" > /dev/null 2> "$tmp/sum"
[ "$(count priv wbinvd "$tmp/sum")" = 13 ] || no "-c: wbinvd count is not 13"
[ "$(count priv int3 "$tmp/sum")" = 5 ] || no "-c: int3 count is not 5"
[ "$(count exception '#BP' "$tmp/sum")" = 5 ] || no "-c: #BP count is not 5"
[ "$(count priv lgdt "$tmp/sum")" = 1 ] || no "-c: lgdt count is not 1"
rows=$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { s += $4 } END { print s }' "$tmp/sum")
total=$(awk '$NF == "total" { print $4 }' "$tmp/sum")
[ "$rows" = "$total" ] || no "-c: rows add up to $rows, the total line says $total"
# As many events as lines in the full trace, though -c runs ahead of
# traps (fewer traps than events) and the full trace does not.
[ "$total" = "$(wc -l < "$tmp/trace" | tr -d ' ')" ] ||
	no "-c: $total events, the full trace has $(wc -l < "$tmp/trace") lines"
traps=$(awk '$1 == "traps:" { print $2 }' "$tmp/sum")
[ -n "$traps" ] && [ "$traps" -lt "$total" ] ||
	no "-c: '$traps' traps for $total events: it did not run ahead"

# ---- filters ---------------------------------------------------------------
"$trapeze" trace -c -e port=0x80 "$guest" > /dev/null 2> "$tmp/sum"
[ "$(count priv out "$tmp/sum")" = 100 ] || no "-e port=0x80 -c: not 100 outs"
[ "$(awk '$NF == "total" { print $4 }' "$tmp/sum")" = 100 ] ||
	no "-e port=0x80 -c: total is not 100"
"$trapeze" trace -e insn=wbinvd,lgdt "$guest" > /dev/null 2> "$tmp/f"
[ "$(wc -l < "$tmp/f" | tr -d ' ')" = 14 ] || no "-e insn=wbinvd,lgdt: not 14 lines"
[ "$(grep -c -v -E ' (wbinvd|lgdt \[[^]]*\]) +priv ' "$tmp/f")" = 0 ] ||
	no "-e insn=wbinvd,lgdt let other events through"
"$trapeze" trace -e trace=exception "$guest" > /dev/null 2> "$tmp/f"
[ "$(grep -c ' exception #BP breakpoint' "$tmp/f")" = 5 ] &&
	[ "$(wc -l < "$tmp/f" | tr -d ' ')" = 5 ] ||
	no "-e trace=exception: not exactly the 5 #BP"

# ---- -k: the frames, innermost first ----------------------------------------
"$trapeze" trace -k -e port=0x3f8 "$guest" > /dev/null 2> "$tmp/k"
grep -A3 ' traced_out_H ' "$tmp/k" | sed -n '2,4p' |
	sed -E 's/^ *> 0x[0-9a-f]+ //; s/\+0x[0-9a-f]+$//' > "$tmp/frames"
printf 'middle\nouter\nguest_main\n' | diff -u - "$tmp/frames" ||
	no "-k: the frames under traced_out_H are not middle, outer, guest_main"

# ---- --json ------------------------------------------------------------------
"$trapeze" trace --json -k "$guest" > /dev/null 2> "$tmp/json"
"$jsoncheck" seq time_ns mode rip symbol insn kind effect monitor_us stack \
	< "$tmp/json" > "$tmp/n" || no "--json: not one JSON object per line"
[ "$(cat "$tmp/n")" = "$(wc -l < "$tmp/trace" | tr -d ' ') objects" ] ||
	no "--json: $(cat "$tmp/n"), the text trace has $(wc -l < "$tmp/trace") lines"
grep -qF '"symbol":"traced_out_H","insn":"out dx, al","kind":"priv","effect":"port=0x3f8 (COM1 THR) value=0x48 '"'H'"'"' "$tmp/json" ||
	no "--json: no object for traced_out_H"

# ---- -o, -T, -tt -------------------------------------------------------------
"$trapeze" trace -o "$tmp/file" -T -tt -e insn=wbinvd "$guest" > /dev/null 2> "$tmp/err"
[ -s "$tmp/err" ] && no "-o: something still went to stderr: $(head -1 "$tmp/err")"
[ "$(grep -c -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} kernel .* wbinvd .* <[0-9]+\.[0-9]us>$' "$tmp/file")" = 13 ] ||
	no "-o -T -tt: not 13 time-stamped, timed wbinvd lines in the file"

# ---- bad options: one line, status 2, the guest never starts -----------------
bad() { # EXPECTED-MESSAGE ARGS...
	msg=$1; shift
	"$trapeze" trace "$@" "$guest" > "$tmp/out" 2> "$tmp/err"
	st=$?
	[ $st -eq 2 ] || no "trace $*: exit status $st, expected 2"
	[ -s "$tmp/out" ] && no "trace $*: the guest ran"
	[ "$(wc -l < "$tmp/err" | tr -d ' ')" = 1 ] && grep -qF -- "$msg" "$tmp/err" ||
		no "trace $*: stderr is not one line with '$msg': $(cat "$tmp/err")"
}
bad "-e trace=bogus: unknown kind of event" -e trace=bogus
bad "-e insn=nosuch: no such instruction" -e insn=nosuch
bad "-e port=0x10000: not a port number" -e port=0x10000
bad "-e verb=x: expected trace=, insn= or port=" -e verb=x
bad "-o $tmp/no/such/dir/f: No such file or directory" -o "$tmp/no/such/dir/f"
bad "unknown option '--bogus'" --bogus
bad "-r and -t exclude each other" -r -t
exit $fail
