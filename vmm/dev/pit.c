/*
 * The 8254 interval timer (Intel 82C54 data sheet), counting at
 * 1.193182 MHz.  A counter is not ticked one by one: its value is computed
 * from the time since it was loaded, and only channel 0's output edges
 * (IRQ 0) become virtual timers.  Modes: 0 (interrupt on terminal count),
 * 2 (rate generator) and 3 (square wave) are what kernels use for their
 * tick; 1, 4 and 5 count like 0.  Reads support the latch command and the
 * lsb/msb access modes; port 0x61 gives channel 2's gate and output, which
 * kernels use to calibrate the TSC.
 */
#include <stdlib.h>
#include <string.h>

#include "trapeze/abi.h"

#include "dev/io.h"
#include "dev/pc.h"
#include "dev/pit.h"
#include "dev/timer.h"

#define PIT_HZ 1193182ull
#define PIT_PORT_GATE 0x61      /* the keyboard controller's port B */

struct channel {
	uint8_t mode, access;     /* access: 1 lsb, 2 msb, 3 lsb then msb */
	bool write_msb, read_msb; /* next byte of a 16-bit transfer */
	bool latched;
	uint16_t latch;
	uint32_t reload;          /* 1..65536 */
	uint64_t start;           /* when counting began (ns) */
	bool counting;
};

struct pit {
	struct channel ch[3];
	uint8_t port61;
	struct vtimer tick;       /* channel 0's IRQ 0 edges */
	struct timers *ts;
	struct irq_line irq;
};

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks * 1000000000ull / PIT_HZ;
}

static void fire(void *opaque, uint64_t now)
{
	struct pit *p = opaque;

	irq_line_set(&p->irq, true);
	irq_line_set(&p->irq, false);
}

struct pit *pit_create(struct timers *ts, struct irq_line irq)
{
	struct pit *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ts = ts;
	p->irq = irq;
	p->tick.fire = fire;
	p->tick.opaque = p;
	timers_add(ts, &p->tick);
	return p;
}

void pit_destroy(struct pit *p)
{
	free(p);
}

/* The counter now: it counts down from reload, and modes 2 and 3 reload
 * at zero. */
static uint16_t count_now(const struct channel *c, uint64_t now)
{
	uint64_t elapsed;

	if (!c->counting)
		return (uint16_t)c->reload;
	elapsed = (now - c->start) * PIT_HZ / 1000000000ull;
	if (c->mode == 2 || c->mode == 3)
		return (uint16_t)(c->reload - elapsed % c->reload);
	return elapsed >= c->reload ? 0 : (uint16_t)(c->reload - elapsed);
}

static bool out_high(const struct channel *c, uint64_t now)
{
	return c->counting && count_now(c, now) == 0;
}

static void start(struct pit *p, unsigned i)
{
	struct channel *c = &p->ch[i];
	uint64_t period = ticks_to_ns(c->reload);

	c->start = timers_guest_now(p->ts);
	c->counting = true;
	if (i != 0)
		return;
	if (c->mode == 2 || c->mode == 3)
		vtimer_start(p->ts, &p->tick, period, period);
	else
		vtimer_start(p->ts, &p->tick, period, 0);
}

static void write_counter(struct pit *p, unsigned i, uint8_t v)
{
	struct channel *c = &p->ch[i];
	uint32_t r = c->reload & 0xffff;

	if (c->access == 1 || (c->access == 3 && !c->write_msb))
		r = (r & 0xff00) | v;
	else
		r = (r & 0x00ff) | ((uint32_t)v << 8);
	if (c->access == 3)
		c->write_msb = !c->write_msb;
	c->reload = r ? r : 65536;
	if (c->access != 3 || !c->write_msb)
		start(p, i);
}

static uint8_t read_counter(struct channel *c, uint64_t now)
{
	uint16_t v = c->latched ? c->latch : count_now(c, now);
	uint8_t b;

	if (c->access == 1 || (c->access == 3 && !c->read_msb))
		b = v & 0xff;
	else
		b = v >> 8;
	if (c->access == 3)
		c->read_msb = !c->read_msb;
	if (c->access != 3 || !c->read_msb)
		c->latched = false;
	return b;
}

static void write_control(struct pit *p, uint8_t v)
{
	unsigned i = v >> 6;
	struct channel *c;

	if (i == 3)
		return;                      /* read-back: not implemented */
	c = &p->ch[i];
	if (((v >> 4) & 3) == 0) {           /* counter latch */
		c->latch = count_now(c, timers_guest_now(p->ts));
		c->latched = true;
		return;
	}
	c->access = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;                /* 6 and 7 alias 2 and 3 */
	c->write_msb = c->read_msb = false;
	c->counting = false;
	if (i == 0)
		vtimer_stop(p->ts, &p->tick);
}

void pit_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val)
{
	struct pit *p = opaque;

	if (port == PIT_PORT_GATE) {
		if (write) {
			p->port61 = (uint8_t)*val & 0x0f;
			if (p->port61 & 1)       /* the gate starts ch. 2 */
				start(p, 2);
		} else {
			*val = p->port61 |
			       (out_high(&p->ch[2], timers_guest_now(p->ts))
					? 0x20 : 0);
		}
		return;
	}
	if (port == TRAPEZE_PORT_PIT + 3) {
		if (write)
			write_control(p, (uint8_t)*val);
		else
			*val = 0xff;
		return;
	}
	if (write)
		write_counter(p, port - TRAPEZE_PORT_PIT, (uint8_t)*val);
	else
		*val = read_counter(&p->ch[port - TRAPEZE_PORT_PIT],
				    timers_guest_now(p->ts));
}

static const char *reg_name(unsigned off, bool write)
{
	static const char *const regs[4] = {
		"counter 0", "counter 1", "counter 2", "control" };

	return regs[off & 3];
}

void pit__register(struct pit *p, struct io_bus *bus)
{
	io_register(bus, TRAPEZE_PORT_PIT, 4, pit_io, p, "PIT");
	io_name_registers(bus, TRAPEZE_PORT_PIT, reg_name);
	io_register(bus, PIT_PORT_GATE, 1, pit_io, p, "PIT channel 2 gate");
}

int pit__init(struct pc *pc)
{
	struct pit *p = pit_create(pc->timers,
				   irq_router_line(&pc->lines, TRAPEZE_IRQ_PIT));

	if (!p)
		return -1;
	pit__register(p, &pc->io);
	return 0;
}
