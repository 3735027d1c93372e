#!/bin/sh
# Guests print the same transcript and exit with the same status under
# QEMU (real CPL-0 semantics, emulated) and under Trapeze: the examples,
# the toy kernel (guest-kit/kernel, paravirtualized under Trapeze),
# the paging guest (shadow paging against QEMU's page walker), the
# devices guest (APICs, fw_cfg, ACPI, pc-testdev against QEMU's) and a
# 32-bit multiboot kernel that switches to long mode by itself.
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
exit $fail
