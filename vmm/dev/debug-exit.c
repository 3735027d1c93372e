/*
 * isa-debug-exit (see debug-exit.h).  Reads return all ones, as QEMU's do.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "trapeze/abi.h"

#include "dev/debug-exit.h"
#include "dev/io.h"
#include "dev/pc.h"

struct debug_exit {
	debug_exit_fn fn;
	void *opaque;
};

static void debug_exit_io(void *opaque, uint16_t port, unsigned size,
			  bool write, uint32_t *val)
{
	struct debug_exit *d = opaque;

	if (!write) {
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return;
	}
	d->fn(d->opaque, (int)(((*val & 0x7f) << 1) | 1));
}

int debug_exit__register(struct io_bus *bus, uint16_t port, debug_exit_fn fn,
			 void *opaque)
{
	struct debug_exit *d = malloc(sizeof(*d));

	if (!d)
		return -1;
	*d = (struct debug_exit){ fn, opaque };
	io_register(bus, port, 4, debug_exit_io, d, "isa-debug-exit");
	return 0;
}

int debug_exit__init(struct pc *pc)
{
	return debug_exit__register(&pc->io, TRAPEZE_PORT_DEBUG_EXIT, pc->exit,
				    pc->power_ctx);
}
