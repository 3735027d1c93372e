/*
 * The 8042 keyboard controller and the keyboard behind it (IBM PC/AT
 * technical reference; the commands every BIOS and kernel uses).
 *
 * The host's keyboard is not wired to it: the guest's console input is
 * COM1.  What a kernel needs is a controller that says "no key" and
 * answers its set-up: xv6's kbdgetc reads the status port and returns when
 * bit 0 (output buffer full) is clear.  So the output buffer only ever
 * holds replies: to controller commands written to 0x64 (self-test 0x55,
 * the command byte...) and to keyboard commands written to 0x60 (ACK 0xfa,
 * reset's 0xaa...).  A reply raises IRQ 1 when the command byte enables
 * it, as a key would.  There is no mouse: bytes for it are dropped.
 *
 * Pulsing the reset line (command 0xfe, or output port bit 0 cleared)
 * asks for a machine reset; the VM decides what that means.
 */
#include <stdlib.h>

#include "dev/i8042.h"
#include "dev/pc.h"

#define ST_OBF   0x01     /* output buffer full */
#define ST_SYS   0x04     /* system flag (self-test passed) */
#define ST_CMD   0x08     /* last write was to the command port */
#define ST_UNLOCKED 0x10  /* keyboard not inhibited */
#define CCB_KBD_IRQ 0x01
#define CCB_SYS  0x04
#define CCB_KBD_OFF 0x10
#define CCB_AUX_OFF 0x20
#define CCB_XLATE 0x40
#define OUT_RESET 0x01    /* output port: 0 holds the CPU in reset */
#define OUT_A20  0x02
#define ACK 0xfa
#define QUEUE 16

struct i8042 {
	uint8_t queue[QUEUE];     /* the output buffer and what follows it */
	unsigned head, len;
	uint8_t last;             /* the byte read last (an empty read) */
	uint8_t ccb;              /* the controller's command byte */
	uint8_t outport;
	uint8_t wait_ctl;         /* controller command awaiting its byte */
	uint8_t wait_kbd;         /* keyboard command awaiting its byte */
	bool last_was_cmd;
	bool line;
	struct irq_line irq;
	void (*reset)(void *opaque);
	void *opaque;
};

struct i8042 *i8042_create(struct irq_line irq, void (*reset)(void *opaque),
			   void *opaque)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->irq = irq;
	k->reset = reset;
	k->opaque = opaque;
	/* As a BIOS leaves it: translation, system flag, keyboard
	 * interrupt on, no mouse. */
	k->ccb = CCB_XLATE | CCB_AUX_OFF | CCB_SYS | CCB_KBD_IRQ;
	k->outport = OUT_RESET | OUT_A20;
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	free(k);
}

/* IRQ 1 follows "a byte is waiting and interrupts are on"; each new byte
 * is a new edge, as the controller raises the line per byte. */
static void update_irq(struct i8042 *k, bool new_byte)
{
	bool level = k->len && (k->ccb & CCB_KBD_IRQ);

	if (k->line && (new_byte || !level)) {
		irq_line_set(&k->irq, false);
		k->line = false;
	}
	if (level && !k->line) {
		irq_line_set(&k->irq, true);
		k->line = true;
	}
}

static void push(struct i8042 *k, uint8_t v)
{
	if (k->len == QUEUE)
		return;
	k->queue[(k->head + k->len++) % QUEUE] = v;
	if (k->len == 1)
		update_irq(k, true);
}

static uint8_t pop(struct i8042 *k)
{
	if (k->len) {
		k->last = k->queue[k->head];
		k->head = (k->head + 1) % QUEUE;
		k->len--;
		update_irq(k, true);
	}
	return k->last;
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	if (!(v & OUT_RESET) && k->reset)
		k->reset(k->opaque);
}

/* A byte written to 0x60 with no controller command waiting: it is for
 * the keyboard, which acknowledges (and answers) what it understands. */
static void keyboard(struct i8042 *k, uint8_t v)
{
	if (k->wait_kbd) {
		k->wait_kbd = 0;
		push(k, ACK);
		return;
	}
	switch (v) {
	case 0xed: case 0xf0: case 0xf3:  /* LEDs, scan code set, typematic */
		k->wait_kbd = v;
		push(k, ACK);
		break;
	case 0xee:                        /* echo */
		push(k, 0xee);
		break;
	case 0xf2:                        /* identify: an MF2 keyboard */
		push(k, ACK);
		push(k, 0xab);
		push(k, 0x83);
		break;
	case 0xff:                        /* reset and self-test */
		push(k, ACK);
		push(k, 0xaa);
		break;
	default:                          /* enable, disable, defaults... */
		push(k, v >= 0xf4 ? ACK : 0xfe);
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->wait_ctl;

	k->wait_ctl = 0;
	switch (cmd) {
	case 0x60:
		k->ccb = v;
		update_irq(k, false);
		break;
	case 0xd1:
		write_outport(k, v);
		break;
	case 0xd2:                        /* as if the keyboard sent it */
		push(k, v);
		break;
	case 0xd3: case 0xd4:             /* to or from the mouse: none */
		break;
	default:
		keyboard(k, v);
	}
}

static void command(struct i8042 *k, uint8_t v)
{
	switch (v) {
	case 0x20: push(k, k->ccb); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->wait_ctl = v;
		break;
	case 0xa7: k->ccb |= CCB_AUX_OFF; break;
	case 0xa8: k->ccb &= ~CCB_AUX_OFF; break;
	case 0xa9: push(k, 0x00); break;  /* mouse interface test: passed */
	case 0xaa: push(k, 0x55); break;  /* controller self-test: passed */
	case 0xab: push(k, 0x00); break;  /* keyboard interface test */
	case 0xad: k->ccb |= CCB_KBD_OFF; break;
	case 0xae: k->ccb &= ~CCB_KBD_OFF; break;
	case 0xc0: push(k, 0x80); break;  /* input port: not inhibited */
	case 0xd0: push(k, k->outport); break;
	case 0xdd: k->outport &= ~OUT_A20; break;
	case 0xdf: k->outport |= OUT_A20; break;
	default:
		/* 0xf0-0xff pulse output port bits low for a moment: bit 0
		 * is the reset line. */
		if (v >= 0xf0 && !(v & 1) && k->reset)
			k->reset(k->opaque);
	}
}

static void i8042_io(void *opaque, uint16_t port, unsigned size, bool write,
		     uint32_t *val)
{
	struct i8042 *k = opaque;

	if (!write) {
		if (port == I8042_DATA)
			*val = pop(k);
		else
			*val = (k->len ? ST_OBF : 0) | (k->ccb & CCB_SYS) |
			       (k->last_was_cmd ? ST_CMD : 0) | ST_UNLOCKED;
		return;
	}
	k->last_was_cmd = port == I8042_CMD;
	if (port == I8042_DATA)
		data_write(k, (uint8_t)*val);
	else
		command(k, (uint8_t)*val);
}

void i8042__register(struct i8042 *k, struct io_bus *bus)
{
	/* Two single ports: 0x61 between them is the PIT's. */
	io_register(bus, I8042_DATA, 1, i8042_io, k, "8042 data");
	io_register(bus, I8042_CMD, 1, i8042_io, k, "8042 status/command");
}

int i8042__init(struct pc *pc)
{
	struct i8042 *k = i8042_create(irq_router_line(&pc->lines, I8042_IRQ),
				       pc->reset, pc->power_ctx);

	if (!k)
		return -1;
	i8042__register(k, &pc->io);
	return 0;
}
