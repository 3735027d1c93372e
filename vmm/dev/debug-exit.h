/*
 * QEMU's isa-debug-exit device: a write of v to its port ends the run
 * with exit status (v << 1) | 1, so a guest's test result becomes the
 * monitor's exit status (always odd, never the monitor's own codes).
 */
#ifndef TRAPEZE_DEBUG_EXIT_H
#define TRAPEZE_DEBUG_EXIT_H

#include <stdint.h>

struct io_bus;
struct pc;

/* The run ends with this status (the board's, which never returns). */
typedef void (*debug_exit_fn)(void *opaque, int status);

int debug_exit__register(struct io_bus *bus, uint16_t port, debug_exit_fn fn,
			 void *opaque);
/* At the guest ABI's port 0xf4, as QEMU's -device isa-debug-exit. */
int debug_exit__init(struct pc *pc);

#endif
