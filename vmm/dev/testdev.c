/*
 * pc-testdev (see testdev.h), as QEMU's hw/misc/pc-testdev.c behaves.
 * The flush-page port exists in QEMU to make KVM fault on a page again;
 * it has no effect a guest can see, and here it has none at all.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/io.h"
#include "dev/mmio.h"
#include "dev/pc.h"
#include "dev/testdev.h"

struct testdev {
	uint32_t data;            /* the 0xe0 / 0xe8 scratch register */
	uint8_t iomem[TESTDEV_IOMEM_LEN];
	struct irq_line lines;    /* its 24 lines, from lines.line up */
};

struct testdev *testdev_create(struct irq_line lines)
{
	struct testdev *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lines = lines;
	return t;
}

void testdev_destroy(struct testdev *t)
{
	free(t);
}

/* Bytes [port & 3, + size) of the scratch register. */
static void scratch(struct testdev *t, unsigned at, unsigned size,
		    bool write, uint32_t *val)
{
	unsigned shift = 8 * (at & 3);
	uint32_t mask = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1)
			<< shift;

	if (write)
		t->data = (t->data & ~mask) | ((*val << shift) & mask);
	else
		*val = (t->data & mask) >> shift;
}

void testdev_io(void *opaque, uint16_t port, unsigned size, bool write,
		uint32_t *val)
{
	struct testdev *t = opaque;
	unsigned i;

	if (port >= TESTDEV_IRQ_PORT) {
		if (write)
			irq_line_set_nth(&t->lines, port - TESTDEV_IRQ_PORT,
					 (*val & 0xff) != 0);
		else
			*val = 0xffffffffu;
		return;
	}
	if (port >= TESTDEV_BYTE_PORT) {         /* byte-wide accesses */
		uint32_t b, out = 0;

		for (i = 0; i < size && port + i < TESTDEV_BYTE_PORT + 4;
		     i++) {
			b = (*val >> (8 * i)) & 0xff;
			scratch(t, port + i, 1, write, &b);
			out |= b << (8 * i);
		}
		if (!write)
			*val = out;
		return;
	}
	if (port >= TESTDEV_FLUSH_PORT) {
		if (!write)
			*val = 0xffffffffu;
		return;
	}
	scratch(t, port, size, write, val);
}

void testdev_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		  uint64_t *val)
{
	struct testdev *t = opaque;

	if (write)
		memcpy(&t->iomem[offset], val, size);
	else
		memcpy(val, &t->iomem[offset], size);
}

void testdev__register(struct testdev *t, struct io_bus *io,
		       struct mmio_bus *mmio)
{
	io_register(io, TESTDEV_PORT, 4, testdev_io, t, "pc-testdev");
	io_register(io, TESTDEV_FLUSH_PORT, 4, testdev_io, t,
		    "pc-testdev flush page");
	io_register(io, TESTDEV_BYTE_PORT, 4, testdev_io, t,
		    "pc-testdev byte");
	io_register(io, TESTDEV_IRQ_PORT, TESTDEV_IRQ_LINES, testdev_io, t,
		    "pc-testdev IRQ lines");
	if (mmio)
		mmio_register(mmio, TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, testdev_mmio, t,
		      "pc-testdev iomem");
}

int testdev__init(struct pc *pc)
{
	struct testdev *t = testdev_create(irq_router_line(&pc->lines, 0));

	if (!t)
		return -1;
	/* Its scratch page only where it hides no RAM. */
	testdev__register(t, &pc->io,
			  pc->ram_size <= TESTDEV_IOMEM ? &pc->mmio : NULL);
	return 0;
}
