/*
 * The 8254 programmable interval timer: channel 0, wired to IRQ 0, counts
 * down from a divisor of its 1.193182 MHz clock and raises the line each
 * time it wraps.  Mode 2 (rate generator) gives one pulse per period.
 */
#include "kernel.h"

#define PIT_CH0  TRAPEZE_PORT_PIT
#define PIT_CMD  (TRAPEZE_PORT_PIT + 3)
/* Channel 0, low byte then high byte, mode 2, binary. */
#define PIT_CH0_MODE2 0x34

void pit_start(unsigned hz)
{
	unsigned divisor = (TRAPEZE_PIT_HZ + hz / 2) / hz;

	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, (uint8_t)divisor);
	outb(PIT_CH0, (uint8_t)(divisor >> 8));
}
