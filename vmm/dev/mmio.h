/*
 * The device-memory (MMIO) bus: a short table of {guest-physical range,
 * callback, state}, as io.h is for ports.  Nothing here is ever mapped in
 * the host: an access to a device page faults (the shadow MMU finds no RAM
 * behind the address), the instruction at RIP is decoded and emulated,
 * and the emulator's memory helpers (gmem.c) hand each piece that lands
 * in a region to its device.
 */
#ifndef TRAPEZE_MMIO_H
#define TRAPEZE_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/* size is 1, 2, 4 or 8 and offset + size stays within the region; *val
 * is read on a write, filled on a read. */
typedef void (*mmio_fn)(void *opaque, uint64_t offset, unsigned size,
			bool write, uint64_t *val);

#define MMIO_MAX_REGIONS 8

/* Does the register at offset read as *val, size bytes, until the bus's
 * generation moves? (A device register no write or event changes, such
 * as an ID: a translator may read it once for good.) */
typedef bool (*mmio_fixed_fn)(void *opaque, uint64_t offset, unsigned size,
			      uint64_t *val);

struct mmio_region {
	uint64_t base, len;
	mmio_fn fn;
	void *opaque;
	const char *name;
	mmio_fixed_fn fixed;          /* NULL: none is */
	struct mmio_bus *bus;
};

struct mmio_bus {
	struct mmio_region r[MMIO_MAX_REGIONS];
	unsigned n;
	uint64_t gen;                 /* moves when a fixed value may have */
};

/* Returns the region (its base may move later: the local APIC's does). */
struct mmio_region *mmio_register(struct mmio_bus *bus, uint64_t base,
				  uint64_t len, mmio_fn fn, void *opaque,
				  const char *name);
/* A region's registers that read as fixed values (mmio_fixed_fn). */
void mmio_set_fixed(struct mmio_region *r, mmio_fixed_fn fixed);
/* A device changed a fixed register, or moved its region. */
void mmio_changed(struct mmio_region *r);
/* The fixed value at gpa (false: none, or no device there). */
bool mmio_fixed_at(const struct mmio_bus *bus, uint64_t gpa, unsigned size,
		   uint64_t *val);

/* The region holding gpa, or NULL: no device answers there. */
const struct mmio_region *mmio_find(const struct mmio_bus *bus, uint64_t gpa);
/* Perform len bytes (1 to 8) at gpa inside region r; an access the
 * device cannot take whole is split into naturally aligned pieces. */
void mmio_access(const struct mmio_region *r, uint64_t gpa, void *buf,
		 unsigned len, bool write);

#endif /* TRAPEZE_MMIO_H */
