/*
 * The port I/O bus: a short table of {port range, callback, state}.  A PC
 * has a handful of devices, so a linear search is the fastest and the
 * plainest lookup.
 */
#include <assert.h>
#include <stddef.h>

#include "dev/io.h"

void io_register(struct io_bus *bus, uint16_t base, uint16_t len, io_fn fn,
		 void *opaque, const char *name)
{
	assert(bus->ndev < IO_MAX_DEVICES);
	bus->dev[bus->ndev++] = (struct io_range){ base, len, fn, opaque,
						   name, NULL };
}

static struct io_range *find(struct io_bus *bus, uint16_t port)
{
	unsigned i;

	for (i = 0; i < bus->ndev; i++)
		if ((uint16_t)(port - bus->dev[i].base) < bus->dev[i].len)
			return &bus->dev[i];
	return NULL;
}

void io_port(struct io_bus *bus, uint16_t port, unsigned size, bool write,
	     uint32_t *val)
{
	struct io_range *r = find(bus, port);

	if (r) {
		r->fn(r->opaque, port, size, write, val);
		return;
	}
	if (!write)
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

const char *io_port_name(const struct io_bus *bus, uint16_t port)
{
	const struct io_range *r = find((struct io_bus *)bus, port);

	return r ? r->name : NULL;
}

void io_name_registers(struct io_bus *bus, uint16_t base, io_reg_fn reg)
{
	struct io_range *r = find(bus, base);

	assert(r && r->base == base);
	r->reg = reg;
}

const char *io_port_reg(const struct io_bus *bus, uint16_t port, bool write)
{
	const struct io_range *r = find((struct io_bus *)bus, port);

	return r && r->reg ? r->reg((unsigned)(uint16_t)(port - r->base),
				    write)
			   : NULL;
}
