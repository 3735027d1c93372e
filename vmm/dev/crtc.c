/*
 * The 6845-style CRT controller of a CGA/VGA text display (IBM VGA
 * technical reference, CRT controller registers 0x00-0x18).  The guest
 * selects a register at 0x3d4 and reads or writes it at 0x3d5; a 16-bit
 * out to 0x3d4 does both at once.  xv6's cgaputc reads the cursor
 * location (0x0e high, 0x0f low) back before each character, so the
 * registers must keep what was written.  Nothing is drawn: the display
 * itself is not emulated.
 *
 * The text buffer at 0xb8000 needs no device.  Guest RAM starts at
 * guest-physical 0 and is at least 4 MiB (--mem), so 0xb8000-0xbffff is
 * plain RAM: the characters a kernel stores there stay in guest memory
 * and nobody shows them.  The console is COM1 (xv6 writes every
 * character to both).
 */
#include <stdlib.h>
#include <string.h>

#include "dev/crtc.h"
#include "dev/pc.h"

#define NREGS 0x19

struct crtc {
	uint8_t index;
	uint8_t reg[NREGS];
};

/* The registers as a BIOS leaves them in 80x25 colour text (mode 3). */
static const uint8_t mode3[NREGS] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f,
	0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
	0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};

struct crtc *crtc_create(void)
{
	struct crtc *c = calloc(1, sizeof(*c));

	if (c)
		memcpy(c->reg, mode3, sizeof(mode3));
	return c;
}

void crtc_destroy(struct crtc *c)
{
	free(c);
}

static void crtc_io(void *opaque, uint16_t port, unsigned size, bool write,
		    uint32_t *val)
{
	struct crtc *c = opaque;

	if (!write) {
		if (port == CRTC_INDEX)
			*val = c->index | (size > 1 && c->index < NREGS ?
					   (uint32_t)c->reg[c->index] << 8 : 0);
		else
			*val = c->index < NREGS ? c->reg[c->index] : 0xff;
		return;
	}
	if (port == CRTC_INDEX) {
		c->index = (uint8_t)*val;
		if (size == 1)
			return;
		*val >>= 8;           /* outw: index, then the data byte */
	}
	if (c->index < NREGS)
		c->reg[c->index] = (uint8_t)*val;
}

void crtc__register(struct crtc *c, struct io_bus *bus)
{
	io_register(bus, CRTC_INDEX, 2, crtc_io, c, "CGA CRT controller");
}

int crtc__init(struct pc *pc)
{
	struct crtc *c = crtc_create();

	if (!c)
		return -1;
	crtc__register(c, &pc->io);
	return 0;
}
