/*
 * isa-debug-exit (see debug-exit.h).  Reads return all ones, as QEMU's do.
 */
#include <stdbool.h>

#include "dev/io.h"
#include "core/vm.h"
#include "dev/debug-exit.h"

static void debug_exit_io(void *opaque, uint16_t port, unsigned size,
			  bool write, uint32_t *val)
{
	struct vm *vm = opaque;

	if (!write) {
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return;
	}
	vm_exit(vm, (int)(((*val & 0x7f) << 1) | 1));
}

void debug_exit__register(struct vm *vm, struct io_bus *bus, uint16_t port)
{
	io_register(bus, port, 4, debug_exit_io, vm, "isa-debug-exit");
}
