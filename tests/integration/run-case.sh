#!/bin/sh
# Run one integration case: a guest under `trapeze run`, its stdout
# compared with the expected transcript, its exit status with the expected
# one, and each expected stderr line searched for (fixed strings).
#
# A case file (NAME.case, shell) sets:
#   guest     the guest image, relative to the build tree (or absolute)
#   args      options for `trapeze run` (optional)
#   status    the expected exit status
#   mangle    an elfmangle mutation applied to the guest first (optional)
#   stdin     text for the guest's serial input (optional)
#   cmd       the trapeze command, default "run"
#   stderr_lines  the number of lines stderr must have (optional)
# The case is sourced with $tmp set: it may make files there first.
# NAME.stdout holds the expected stdout (absent: stdout must be empty);
# NAME.stderr holds lines that must appear on stderr (absent: anything);
# NAME.stdout-has lines that must appear on stdout (instead of .stdout).
set -u
case_file=$1
name=$(basename "$case_file" .case)
dir=$(dirname "$case_file")
builddir=${builddir:-.}
trapeze=${TRAPEZE:-$builddir/trapeze}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

guest= args= status=0 mangle= stdin= cmd=run stderr_lines=
. "$case_file"

case $guest in
/*) image=$guest ;;
'') image= ;;
*) image=$builddir/$guest ;;
esac
if [ -n "$mangle" ]; then
	"$builddir/tests/tools/elfmangle" "$mangle" "$image" "$tmp/guest.elf" ||
		exit 99
	image=$tmp/guest.elf
fi

printf '%s' "$stdin" > "$tmp/stdin"
# shellcheck disable=SC2086
eval "\"$trapeze\" $cmd $args $image" < "$tmp/stdin" \
	> "$tmp/stdout" 2> "$tmp/stderr"
got=$?

fail=0
# must_contain OUTPUT LINES-FILE WHAT: every line must appear in OUTPUT.
must_contain() {
	while IFS= read -r line; do
		if ! grep -qF -- "$line" "$1"; then
			echo "FAIL $name: $3 lacks: $line"
			fail=1
		fi
	done < "$2"
}
if [ "$got" -ne "$status" ]; then
	echo "FAIL $name: exit status $got, expected $status"
	fail=1
fi
if [ -f "$dir/$name.stdout" ]; then
	if ! diff -u "$dir/$name.stdout" "$tmp/stdout"; then
		echo "FAIL $name: stdout differs from $name.stdout"
		fail=1
	fi
elif [ -f "$dir/$name.stdout-has" ]; then
	must_contain "$tmp/stdout" "$dir/$name.stdout-has" stdout
elif [ -s "$tmp/stdout" ]; then
	echo "FAIL $name: unexpected stdout:"
	cat "$tmp/stdout"
	fail=1
fi
if [ -f "$dir/$name.stderr" ]; then
	must_contain "$tmp/stderr" "$dir/$name.stderr" stderr
fi
if [ -n "$stderr_lines" ] &&
   [ "$(wc -l < "$tmp/stderr")" -ne "$stderr_lines" ]; then
	echo "FAIL $name: stderr has $(wc -l < "$tmp/stderr") lines, expected $stderr_lines"
	fail=1
fi
if [ "$fail" -ne 0 ]; then
	echo "--- stderr of $name:"
	cat "$tmp/stderr"
fi
exit $fail
