/*
 * The PC the devices plug into: its port and MMIO buses, its interrupt
 * lines, its clock, and what it tells its devices (RAM size, the console,
 * the disks, how to end or reset the machine).  Each device file has an
 * init that creates the device and registers its ports, MMIO ranges and
 * lines here, as kvmtool's devices do; the board (core/board.c) fills the
 * rest and runs the inits of its device table in order.  The devices
 * another part of the machine reaches (the CPU its local APIC, the run
 * loop the console) are left here by their init.
 */
#ifndef TRAPEZE_DEV_PC_H
#define TRAPEZE_DEV_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/io.h"
#include "dev/irq.h"
#include "dev/mmio.h"
#include "dev/uart.h"

#define PC_DRIVES 4

struct disk;
struct ide;
struct lapic;
struct timers;

struct pc {
	/* What devices plug into. */
	struct io_bus io;
	struct mmio_bus mmio;
	struct irq_router lines;
	struct timers *timers;

	/* What the board tells them. */
	uint64_t ram_size;
	bool apics;               /* room for the APICs' pages above RAM */
	uint64_t tsc_khz;         /* the guest's TSC, for the APIC timer */
	uint64_t (*tsc)(void *ctx);
	void *tsc_ctx;
	int console_in, console_out;      /* COM1's file descriptors */
	uart_input_fn console_filter;     /* the terminal's escapes */
	void *console_ctx;
	struct disk *drive[PC_DRIVES];    /* the IDE drives, by index */

	/* How the guest ends or resets the machine (the board's; none of
	 * them returns). */
	void (*exit)(void *ctx, int status);     /* isa-debug-exit */
	void (*reset)(void *ctx);                /* the 8042's reset line */
	void (*sleep)(void *ctx, unsigned typ);  /* ACPI SLP_EN */
	void *power_ctx;

	/* The devices others reach, left by their init. */
	struct uart *com1;
	struct pic *pic;
	struct lapic *lapic;
	struct ioapic *ioapic;
};

/* One device's init: 0, or -1 when it could not be made (memory). */
typedef int (*pc_device_init)(struct pc *pc);

#endif
