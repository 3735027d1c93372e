/*
 * The Trapeze boot state in guest memory: boot info, boot GDT, identity
 * page tables.  One implementation serves both sides: the monitor builds
 * it in guest RAM before the first instruction, and a guest booted by a
 * multiboot loader (QEMU, bare hardware) builds it for itself, so that the
 * same image finds the same machine under both.
 */
#ifndef TRAPEZE_BOOTSTATE_H
#define TRAPEZE_BOOTSTATE_H

#include <stdint.h>

#include "trapeze/abi.h"

/*
 * Build the boot state in RAM seen at address ram (the monitor's view of
 * guest-physical 0, or 0 itself in the guest).  Fills the boot info's
 * layout fields; the caller sets image, features and tsc_khz.
 */
void trapeze_build_boot_state(uintptr_t ram, uint64_t ram_size,
			      const char *cmdline);

#define TRAPEZE_BOOT_CR0   0xe0000011ull  /* PE ET NW CD PG */
#define TRAPEZE_BOOT_CR4   0x20ull        /* PAE */
#define TRAPEZE_BOOT_GDT_LIMIT (3 * 8 - 1)

#endif
