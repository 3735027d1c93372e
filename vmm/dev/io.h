/*
 * The port I/O bus.  Devices register a port range and one callback at
 * start-up (as kvmtool's devices do); the emulator of in/out only ever
 * calls io_port(), never a device by name.
 */
#ifndef TRAPEZE_IO_H
#define TRAPEZE_IO_H

#include <stdbool.h>
#include <stdint.h>

/* size is 1, 2 or 4; *val is read on a write, filled on a read. */
typedef void (*io_fn)(void *opaque, uint16_t port, unsigned size, bool write,
		      uint32_t *val);

/* A device's ISA interrupt line (IRQ 0-15) goes up or down.  Devices get
 * one of these with an opaque pointer and never learn where the line
 * goes: the VM routes every line in one place (irq_set_line in irq.c). */
typedef void (*irq_line_fn)(void *opaque, unsigned line, bool level);

#define IO_MAX_DEVICES 32

struct io_range {
	uint16_t base, len;
	io_fn fn;
	void *opaque;
	const char *name;
};

struct io_bus {
	struct io_range dev[IO_MAX_DEVICES];
	unsigned ndev;
};

void io_register(struct io_bus *bus, uint16_t base, uint16_t len, io_fn fn,
		 void *opaque, const char *name);
/* Unclaimed ports read as all ones and ignore writes, as on a PC. */
void io_port(struct io_bus *bus, uint16_t port, unsigned size, bool write,
	     uint32_t *val);
/* The device name behind a port, or NULL (for tracing). */
const char *io_port_name(const struct io_bus *bus, uint16_t port);

#endif /* TRAPEZE_IO_H */
