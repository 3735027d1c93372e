#!/bin/sh
# Guests print the same transcript and exit with the same status under
# QEMU (real CPL-0 semantics, emulated) and under Trapeze: the examples,
# the toy kernel (guest-kit/kernel, paravirtualized under Trapeze),
# the paging guest (shadow paging against QEMU's page walker), the
# devices guest (APICs, fw_cfg, ACPI, pc-testdev against QEMU's), a
# 32-bit multiboot kernel that switches to long mode by itself, the IDE
# disk guest (and the image it leaves), and COM1 input from a pipe.
# Skipped (77) when QEMU is not installed.
set -u
builddir=${builddir:-.}
srcdir=${srcdir:-.}
command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 || exit 77
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
for image in guest-kit/examples/hello.elf guest-kit/examples/tour.elf \
	tests/guests/paging.elf tests/guests/scanner.elf \
	tests/guests/interrupts.elf tests/guests/devices.elf \
	guest-kit/kernel/kernel.elf tests/guests/mb32.elf; do
	g=$(basename "$image" .elf)
	image=$builddir/$image
	"$srcdir/scripts/qemu-run" --append "from both" "$image" > "$tmp/qemu"
	qs=$?
	"$builddir/trapeze" run --append "from both" "$image" > "$tmp/trapeze"
	ts=$?
	if [ "$qs" -ne "$ts" ] || ! diff -u "$tmp/qemu" "$tmp/trapeze"; then
		echo "FAIL $g: QEMU exit $qs, Trapeze exit $ts"
		fail=1
	else
		echo "ok $g: same transcript, exit $ts"
	fi
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
if [ "$qs" -ne "$ts" ] || ! diff -u "$tmp/qemu" "$tmp/trapeze" ||
   ! cmp "$tmp/qemu.img" "$tmp/trapeze.img"; then
	echo "FAIL disk: QEMU exit $qs, Trapeze exit $ts"
	fail=1
else
	echo "ok disk: same transcript, same image, exit $ts"
fi

# COM1's receive interrupt with input from a pipe (the guest stops at 'q').
printf 'hi\003\001q' | "$srcdir/scripts/qemu-run" --stdin \
	"$builddir/tests/guests/serial-input.elf" > "$tmp/qemu"
qs=$?
printf 'hi\003\001q' | "$builddir/trapeze" run \
	"$builddir/tests/guests/serial-input.elf" > "$tmp/trapeze"
ts=$?
if [ "$qs" -ne "$ts" ] || ! diff -u "$tmp/qemu" "$tmp/trapeze"; then
	echo "FAIL serial-input: QEMU exit $qs, Trapeze exit $ts"
	fail=1
else
	echo "ok serial-input: same transcript, exit $ts"
fi
exit $fail
