#!/bin/sh
# Guests print the same transcript and exit with the same status under
# QEMU (real CPL-0 semantics, emulated) and under Trapeze: the examples,
# the toy kernel (guest-kit/kernel, paravirtualized under Trapeze),
# the paging guest (shadow paging against QEMU's page walker), the
# devices guest (APICs, fw_cfg, ACPI, pc-testdev against QEMU's), a
# 32-bit multiboot kernel that switches to long mode by itself, code the
# guest writes and maps twice and faults in (codegen), the IDE
# disk guest (and the image it leaves), and COM1 input from a pipe.
# Skipped (77) when QEMU is not installed.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 || exit 77
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
# The two runs just made ($tmp/qemu and $tmp/trapeze, statuses qs and ts)
# agree, and so does what else is named as $2 by the status $3 of a check.
same() {   # NAME [WHAT-ELSE CHECK-STATUS]
	if [ "$qs" -ne "$ts" ] || ! diff -u "$tmp/qemu" "$tmp/trapeze" ||
	   [ "${3:-0}" -ne 0 ]; then
		echo "FAIL $1: QEMU exit $qs, Trapeze exit $ts${2:+, or not $2}"
		fail=1
	else
		echo "ok $1: same transcript${2:+, $2}, exit $ts"
	fi
}
for image in guest-kit/examples/hello.elf guest-kit/examples/tour.elf \
	tests/guests/paging.elf tests/guests/scanner.elf \
	tests/guests/interrupts.elf tests/guests/devices.elf \
	guest-kit/kernel/kernel.elf tests/guests/mb32.elf \
	tests/guests/codegen.elf; do
	g=$(basename "$image" .elf)
	image=$builddir/$image
	"$srcdir/scripts/qemu-run" --append "from both" "$image" > "$tmp/qemu"
	qs=$?
	"$builddir/trapeze" run --append "from both" "$image" > "$tmp/trapeze"
	ts=$?
	same "$g"
done

# The disk guest on fresh images: the same transcript and the same image.
for vm in qemu trapeze; do
	dd if=/dev/zero of="$tmp/$vm.img" bs=512 count=16 2>/dev/null
	printf 'hello from sector 1\n\0' |
		dd of="$tmp/$vm.img" bs=1 seek=512 conv=notrunc 2>/dev/null
done
drive=index=1,media=disk,format=raw
"$srcdir/scripts/qemu-run" --drive "file=$tmp/qemu.img,$drive" \
	"$builddir/tests/guests/disk.elf" > "$tmp/qemu"
qs=$?
"$builddir/trapeze" run --drive "file=$tmp/trapeze.img,$drive" \
	"$builddir/tests/guests/disk.elf" > "$tmp/trapeze" < /dev/null
ts=$?
cmp "$tmp/qemu.img" "$tmp/trapeze.img"
same disk "same image" $?

# COM1's receive interrupt with input from a pipe (the guest stops at 'q').
printf 'hi\003\001q' | "$srcdir/scripts/qemu-run" --stdin \
	"$builddir/tests/guests/serial-input.elf" > "$tmp/qemu"
qs=$?
printf 'hi\003\001q' | "$builddir/trapeze" run \
	"$builddir/tests/guests/serial-input.elf" > "$tmp/trapeze"
ts=$?
same serial-input
exit $fail
