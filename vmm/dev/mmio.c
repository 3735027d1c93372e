/*
 * The MMIO bus (see mmio.h).  A PC has three or four device pages, so a
 * linear search is the plainest lookup; nothing here allocates.
 */
#include <assert.h>
#include <string.h>

#include "dev/mmio.h"

struct mmio_region *mmio_register(struct mmio_bus *bus, uint64_t base,
				  uint64_t len, mmio_fn fn, void *opaque,
				  const char *name)
{
	assert(bus->n < MMIO_MAX_REGIONS);
	bus->r[bus->n] = (struct mmio_region){ base, len, fn, opaque, name,
					       NULL, bus };
	return &bus->r[bus->n++];
}

void mmio_set_fixed(struct mmio_region *r, mmio_fixed_fn fixed)
{
	r->fixed = fixed;
	mmio_changed(r);
}

void mmio_changed(struct mmio_region *r)
{
	r->bus->gen++;
}

bool mmio_fixed_at(const struct mmio_bus *bus, uint64_t gpa, unsigned size,
		   uint64_t *val)
{
	const struct mmio_region *r = mmio_find(bus, gpa);

	return r && r->fixed && gpa - r->base + size <= r->len &&
	       r->fixed(r->opaque, gpa - r->base, size, val);
}

const struct mmio_region *mmio_find(const struct mmio_bus *bus, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < bus->n; i++)
		if (gpa - bus->r[i].base < bus->r[i].len)
			return &bus->r[i];
	return NULL;
}

/* Devices see naturally aligned accesses of 1, 2, 4 or 8 bytes, as a
 * bus would deliver them; anything else is split into bytes. */
void mmio_access(const struct mmio_region *r, uint64_t gpa, void *buf,
		 unsigned len, bool write)
{
	uint64_t off = gpa - r->base, val = 0;
	uint8_t *b = buf;
	unsigned i;

	assert(len >= 1 && len <= 8 && off + len <= r->len);
	if ((len & (len - 1)) == 0 && (off & (len - 1)) == 0) {
		if (write)
			memcpy(&val, b, len);
		r->fn(r->opaque, off, len, write, &val);
		if (!write)
			memcpy(b, &val, len);
		return;
	}
	for (i = 0; i < len; i++) {
		val = write ? b[i] : 0;
		r->fn(r->opaque, off + i, 1, write, &val);
		if (!write)
			b[i] = (uint8_t)val;
	}
}
