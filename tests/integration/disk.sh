#!/bin/sh
# The IDE disk end to end: tests/guests/disk.elf with a fresh 16-sector
# image as disk 1 (--drive index=1).  Without snapshot its transcript is
# exact and the image holds its write afterwards; with snapshot=on the
# transcript is the same and the image is untouched; and the write is in
# the image however the run ends: --timeout, a guest crash, SIGTERM.
set -u
builddir=${builddir:-.}
trapeze=$builddir/trapeze
guest=$builddir/tests/guests/disk.elf
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

no() { echo "FAIL: $*"; fail=1; }

fresh() {
	dd if=/dev/zero of="$tmp/disk.img" bs=512 count=16 2>/dev/null &&
	printf 'hello from sector 1\n\0' |
		dd of="$tmp/disk.img" bs=1 seek=512 conv=notrunc 2>/dev/null &&
	cp "$tmp/disk.img" "$tmp/orig.img" || exit 99
}
sector2() { dd if="$tmp/disk.img" bs=512 skip=2 count=1 2>/dev/null | head -c 20; }

cat > "$tmp/expected" <<'END'
disk 1: present
disk 1: 16 sectors
sector 1: hello from sector 1
write of sector 2: done
sector 2 reads back: written by the guest
and the rest of it: the same
read of sector 16: status 0x41, error 0x4
disk 0 (absent) refuses: ABRT
IRQ 14 taken 6 times, status in the handler 0x41
END

# ---- the write reaches the image --------------------------------------
fresh
"$trapeze" run --drive file="$tmp/disk.img",index=1 "$guest" \
	> "$tmp/out" 2> "$tmp/err" < /dev/null
st=$?
[ $st -eq 1 ] || no "run: exit status $st, expected 1"
diff -u "$tmp/expected" "$tmp/out" || no "run: transcript differs"
[ "$(sector2)" = "written by the guest" ] ||
	no "run: sector 2 of the image is not the guest's write"
cmp -s "$tmp/disk.img" "$tmp/orig.img" && no "run: the image did not change"

# ---- snapshot=on: same transcript, the image untouched ----------------
fresh
"$trapeze" run --drive file="$tmp/disk.img",index=1,snapshot=on,format=raw,media=disk \
	"$guest" > "$tmp/out" 2> "$tmp/err" < /dev/null
st=$?
[ $st -eq 1 ] || no "snapshot: exit status $st, expected 1"
diff -u "$tmp/expected" "$tmp/out" || no "snapshot: transcript differs"
cmp -s "$tmp/disk.img" "$tmp/orig.img" || no "snapshot: the image changed"
# A read-only image is fine with snapshot=on.
chmod a-w "$tmp/disk.img"
"$trapeze" run -q --drive file="$tmp/disk.img",index=1,snapshot=on "$guest" \
	> "$tmp/out" 2>&1 < /dev/null
st=$?
[ $st -eq 1 ] || no "snapshot of a read-only image: exit status $st"
chmod u+w "$tmp/disk.img"

# ---- every exit path keeps the completed write ------------------------
fresh
"$trapeze" run --timeout 1 --append spin \
	--drive file="$tmp/disk.img",index=1 "$guest" > "$tmp/out" 2>&1 < /dev/null
st=$?
[ $st -eq 124 ] || no "timeout: exit status $st, expected 124"
[ "$(sector2)" = "written by the guest" ] || no "timeout: the write is lost"

fresh
"$trapeze" run --append crash --drive file="$tmp/disk.img",index=1 "$guest" \
	> "$tmp/out" 2>&1 < /dev/null
st=$?
[ $st -eq 4 ] || no "crash: exit status $st, expected 4"
[ "$(sector2)" = "written by the guest" ] || no "crash: the write is lost"

fresh
"$trapeze" run --append spin --drive file="$tmp/disk.img",index=1 "$guest" \
	> "$tmp/term" 2>&1 < /dev/null &
pid=$!
for i in $(seq 50); do
	grep -q 'write of sector 2: done' "$tmp/term" && break
	sleep 0.1
done
kill -TERM $pid
wait $pid
st=$?
[ $st -eq 130 ] || no "SIGTERM: exit status $st, expected 130"
[ "$(sector2)" = "written by the guest" ] || no "SIGTERM: the write is lost"

exit $fail
