/*
 * The Intel MultiProcessor Specification (v1.4) tables a PC BIOS leaves
 * in memory: how a kernel such as xv6 finds its processors, its I/O APIC
 * and how ISA interrupts reach it.
 */
#ifndef TRAPEZE_MPTABLE_H
#define TRAPEZE_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

struct mptable_config {
	uint32_t lapic_addr;       /* the local APIC's MMIO base */
	uint32_t ioapic_addr;      /* the I/O APIC's MMIO base */
	uint8_t ioapic_id;         /* what its ID register says */
	uint32_t cpu_signature;    /* cpuid 1: EAX (family, model, stepping) */
	uint32_t cpu_features;     /* cpuid 1: EDX */
};

/* Bytes the floating pointer and the configuration table take at gpa. */
#define MPTABLE_SIZE 256

/*
 * Write the floating pointer at gpa (16-byte aligned, in 0xf0000-0xfffff
 * where the specification has kernels search) and the configuration
 * table right after it, into guest RAM (ram, ram_size bytes from
 * guest-physical 0).  One processor (the BSP, local APIC id 0), one ISA
 * bus, one I/O APIC, ISA IRQs 0-15 but 2 on the I/O APIC's pins of the
 * same numbers, ExtINT and NMI on LINT0 and LINT1.  Also gives the BIOS
 * data area its base memory size (640 KiB) unless it has one, since
 * kernels look at the end of base memory first.  0, or -1 if it does not
 * fit in RAM.
 */
int mptable_build(void *ram, size_t ram_size, uint64_t gpa,
		  const struct mptable_config *cfg);

#endif
