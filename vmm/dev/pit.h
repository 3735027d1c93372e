/*
 * The 8254 programmable interval timer at 0x40-0x43 (channel 0 drives
 * IRQ 0), and port 0x61's gate and output of channel 2.
 */
#ifndef TRAPEZE_PIT_H
#define TRAPEZE_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/io.h"
#include "dev/irq.h"

struct pc;
struct pit;
struct timers;

/* Channel 0's output edges go to irq. */
struct pit *pit_create(struct timers *ts, struct irq_line irq);
/* The PC's 8254 at 0x40-0x43 (and port 0x61), on IRQ 0. */
int pit__init(struct pc *pc);
void pit_destroy(struct pit *p);
void pit__register(struct pit *p, struct io_bus *bus);
void pit_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val);

#endif
