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

/* The name of the register at offset off of a device's range, as the
 * guest reads it (write false) or writes it; NULL when it has none.  For
 * the tracer: "COM1 THR", "PIT counter 0". */
typedef const char *(*io_reg_fn)(unsigned off, bool write);

#define IO_MAX_DEVICES 32

struct io_range {
	uint16_t base, len;
	io_fn fn;
	void *opaque;
	const char *name;
	io_reg_fn reg;
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
/* Name the registers of the range registered at base. */
void io_name_registers(struct io_bus *bus, uint16_t base, io_reg_fn reg);
/* The device name behind a port, or NULL (for tracing). */
const char *io_port_name(const struct io_bus *bus, uint16_t port);
/* The register's name there, or NULL. */
const char *io_port_reg(const struct io_bus *bus, uint16_t port, bool write);

#endif /* TRAPEZE_IO_H */
