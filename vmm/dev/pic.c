/*
 * The two 8259A programmable interrupt controllers of a PC: the master at
 * 0x20/0x21 (IRQ 0-7) and the slave at 0xa0/0xa1 (IRQ 8-15), cascaded on
 * the master's IRQ 2 (Intel 8259A data sheet).  Devices raise and lower
 * lines; when an unmasked request outranks what is in service, the INTR
 * pin is up, and the interrupt path acknowledges it (pic_ack) to learn the
 * vector, as the CPU's INTA cycle does.
 *
 * Implemented: the ICW1-ICW4 initialisation sequence, the interrupt mask
 * (OCW1), specific and non-specific EOI (OCW2), reading IRR or ISR (OCW3),
 * automatic EOI, edge-triggered requests.  Not implemented: rotating
 * priorities, special mask mode, level-triggered mode (ELCR), polling.
 */
#include <stdlib.h>
#include <string.h>

#include "trapeze/abi.h"

#include "dev/io.h"
#include "dev/pc.h"
#include "dev/pic.h"

struct pic8259 {
	uint8_t irr, isr, imr;
	uint8_t vector_base;      /* ICW2 */
	uint8_t init_step;        /* 0: ready; 1-3: expecting ICW2-ICW4 */
	bool icw4_needed, auto_eoi, read_isr;
	uint8_t lines;            /* current level of each input */
};

struct pic {
	struct pic8259 chip[2];   /* master, slave */
};

struct pic *pic_create(void)
{
	struct pic *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* As a BIOS leaves them: vectors 0x08 and 0x70, all masked. */
	p->chip[0].vector_base = 0x08;
	p->chip[1].vector_base = 0x70;
	p->chip[0].imr = p->chip[1].imr = 0xff;
	return p;
}

void pic_destroy(struct pic *p)
{
	free(p);
}

/* The highest-priority pending request (IRQ 0 is highest) not blocked by
 * one of equal or higher priority in service; -1 if none. */
static int highest(const struct pic8259 *c)
{
	uint8_t pending = c->irr & ~c->imr;
	int i;

	for (i = 0; i < 8; i++) {
		if (c->isr & (1u << i))
			return -1;
		if (pending & (1u << i))
			return i;
	}
	return -1;
}

/* The slave's output drives the master's input 2. */
static void cascade(struct pic *p)
{
	uint8_t before = p->chip[0].lines & 4;

	if (highest(&p->chip[1]) >= 0)
		p->chip[0].lines |= 4;
	else
		p->chip[0].lines &= ~4;
	if ((p->chip[0].lines & 4) && !before)
		p->chip[0].irr |= 4;
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	struct pic8259 *c = &p->chip[irq >= 8];
	uint8_t bit = 1u << (irq & 7);

	/* Edge-triggered: a request is latched on a rising edge. */
	if (level && !(c->lines & bit))
		c->irr |= bit;
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
	cascade(p);
}

bool pic_intr(const struct pic *p)
{
	return highest(&p->chip[0]) >= 0;
}

static uint8_t ack_chip(struct pic8259 *c, int irq)
{
	c->irr &= ~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= 1u << irq;
	return (uint8_t)(c->vector_base + irq);
}

int pic_ack(struct pic *p)
{
	int irq = highest(&p->chip[0]), sirq;
	uint8_t vector;

	if (irq < 0)
		return -1;
	if (irq != 2) {
		vector = ack_chip(&p->chip[0], irq);
		cascade(p);
		return vector;
	}
	sirq = highest(&p->chip[1]);
	if (sirq < 0)
		sirq = 7;               /* spurious IRQ 15 */
	ack_chip(&p->chip[0], 2);
	vector = ack_chip(&p->chip[1], sirq);
	cascade(p);
	return vector;
}

static void eoi(struct pic8259 *c, int irq)
{
	int i;

	if (irq >= 0) {
		c->isr &= ~(1u << irq);
		return;
	}
	for (i = 0; i < 8; i++)             /* the highest in service */
		if (c->isr & (1u << i)) {
			c->isr &= ~(1u << i);
			return;
		}
}

static void write_command(struct pic *p, struct pic8259 *c, uint8_t v)
{
	if (v & 0x10) {                     /* ICW1 */
		c->init_step = 1;
		c->icw4_needed = v & 1;
		c->imr = c->isr = c->irr = 0;
		c->auto_eoi = false;
		c->read_isr = false;
	} else if ((v & 0x18) == 0x08) {    /* OCW3 */
		if (v & 2)
			c->read_isr = v & 1;
	} else if (v & 0x20) {              /* OCW2: EOI */
		eoi(c, (v & 0x40) ? (v & 7) : -1);
	}
	cascade(p);
}

static void write_data(struct pic *p, struct pic8259 *c, uint8_t v)
{
	switch (c->init_step) {
	case 1:                             /* ICW2: vector base */
		c->vector_base = v & 0xf8;
		c->init_step = 2;
		break;
	case 2:                             /* ICW3: cascade wiring */
		c->init_step = c->icw4_needed ? 3 : 0;
		break;
	case 3:                             /* ICW4 */
		c->auto_eoi = v & 2;
		c->init_step = 0;
		break;
	default:                            /* OCW1: the mask */
		c->imr = v;
	}
	cascade(p);
}

void pic_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val)
{
	struct pic *p = opaque;
	struct pic8259 *c = &p->chip[(port & ~1u) == TRAPEZE_PORT_PIC_SLAVE];

	if (write) {
		if (port & 1)
			write_data(p, c, (uint8_t)*val);
		else
			write_command(p, c, (uint8_t)*val);
		return;
	}
	if (port & 1)
		*val = c->imr;
	else
		*val = c->read_isr ? c->isr : c->irr;
}

static const char *reg_name(unsigned off, bool write)
{
	return off ? "mask" : "command";
}

void pic__register(struct pic *p, struct io_bus *bus)
{
	io_register(bus, TRAPEZE_PORT_PIC_MASTER, 2, pic_io, p, "PIC master");
	io_register(bus, TRAPEZE_PORT_PIC_SLAVE, 2, pic_io, p, "PIC slave");
	io_name_registers(bus, TRAPEZE_PORT_PIC_MASTER, reg_name);
	io_name_registers(bus, TRAPEZE_PORT_PIC_SLAVE, reg_name);
}

int pic__init(struct pc *pc)
{
	if (!(pc->pic = pic_create()))
		return -1;
	pic__register(pc->pic, &pc->io);
	pc->lines.pic = pc->pic;
	return 0;
}
