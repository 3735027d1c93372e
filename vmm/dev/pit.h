/*
 * The 8254 programmable interval timer at 0x40-0x43 (channel 0 drives
 * IRQ 0), and port 0x61's gate and output of channel 2.
 */
#ifndef TRAPEZE_PIT_H
#define TRAPEZE_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/io.h"

struct pit;
struct timers;

/* Channel 0's output edges go to irq(opaque, 0, level). */
struct pit *pit_create(struct timers *ts, irq_line_fn irq, void *opaque);
void pit_destroy(struct pit *p);
void pit__register(struct pit *p, struct io_bus *bus);
void pit_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val);

#endif
