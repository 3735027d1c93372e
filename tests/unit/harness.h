/*
 * A VM for unit tests: no backend and no window.  The shadow MMU's host
 * calls are recorded, not made; COM1 writes to a temporary file.  Tests
 * put instruction bytes at CODE_GPA, set up the vCPU, emulate one
 * instruction and assert the state it leaves.
 */
#ifndef TRAPEZE_TEST_HARNESS_H
#define TRAPEZE_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vm.h"

#define CODE_GPA  0x200000ull
#define DATA_GPA  0x280000ull
#define STACK_TOP 0x2f0000ull
#define GDT_GPA   0x300000ull
#define IDT_GPA   0x301000ull
#define TSS_GPA   0x302000ull

struct host_calls {
	unsigned maps, protects, unmaps;
	uint64_t last_gva, last_len;
	int last_prot;
};
extern struct host_calls host_calls;

/* Map 0xfec00000-0xff1fffff (the I/O APIC, the local APIC, the HPET's
 * unclaimed address, pc-testdev's iomem) in 2 MiB pages, through a page
 * directory at DEV_PD_GPA. */
#define DEV_PD_GPA 0x310000ull
void harness_map_devices(struct vm *vm);

/* A booted test VM in 64-bit mode at CPL 0, RIP = CODE_GPA. */
struct vm *harness_vm(void);
/* The same with the scanner on (--cpu=scan). */
struct vm *harness_vm_scan(void);
/* Put code at RIP (CODE_GPA unless moved) and emulate it. */
enum emu_result harness_run(struct vm *vm, const char *bytes, size_t n);
/* What COM1 printed so far. */
const char *harness_console(struct vm *vm);

/* A GDT with: 0x08 code64 DPL0, 0x10 data DPL0, 0x18 code64 DPL3 (0x1b),
 * 0x20 data DPL3 (0x23), 0x28 code32 DPL0, 0x30 64-bit TSS (16 bytes). */
void harness_gdt(struct vm *vm);
/* An interrupt (type 0xe) or trap (0xf) gate in a 256-entry IDT. */
void harness_gate(struct vm *vm, unsigned vec, uint64_t handler,
		  unsigned dpl, unsigned type);
/* Drop the vCPU to CPL 3 with the test GDT's user segments. */
void harness_user_mode(struct vm *vm);

void harness_poke(struct vm *vm, uint64_t gpa, const void *p, size_t n);
uint64_t harness_peek64(struct vm *vm, uint64_t gpa);

#endif
