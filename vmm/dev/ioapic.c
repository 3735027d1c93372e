/*
 * The I/O APIC (see ioapic.h), as QEMU models it (version 0x20, which has
 * the EOI register).  Registers are reached indirectly: the guest writes
 * an index to IOREGSEL and reads or writes IOWIN.  Index 0 is the ID,
 * 1 the version, 2 the arbitration ID, 0x10 + 2n and 0x11 + 2n the low
 * and high halves of pin n's redirection entry.
 *
 * An edge-triggered pin sends a message on each rising edge it sees while
 * unmasked; a level-triggered one sends while its line is up and its
 * remote IRR is clear, and remote IRR stays set until the local APIC's
 * EOI for that vector.  Only fixed and lowest-priority delivery are
 * modelled (docs/limits.md).
 */
#include <stdlib.h>

#include "dev/mmio.h"
#include "dev/ioapic.h"
#include "dev/pc.h"
#include "dev/lapic.h"

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_VERSION (0x20u | ((IOAPIC_PINS - 1u) << 16))

#define RTE_MASKED     (1ull << 16)
#define RTE_LEVEL      (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LOGICAL    (1ull << 11)
/* Writable: vector, delivery mode, destination mode, polarity, trigger,
 * mask and destination; delivery status and remote IRR are read-only. */
#define RTE_WRITABLE   (0xff00000000012fffull | RTE_LEVEL)

struct ioapic {
	uint32_t id;
	uint32_t sel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t lines;          /* the level of each pin */
	uint32_t held;           /* an edge came while its pin was masked */
	struct lapic *lapic;
};

struct ioapic *ioapic_create(struct lapic *lapic)
{
	struct ioapic *io = calloc(1, sizeof(*io));
	unsigned i;

	if (!io)
		return NULL;
	io->lapic = lapic;
	for (i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
	return io;
}

void ioapic_destroy(struct ioapic *io)
{
	free(io);
}

void ioapic__register(struct ioapic *io, struct mmio_bus *bus)
{
	mmio_register(bus, IOAPIC_BASE, 4096, ioapic_mmio, io, "IOAPIC");
}

int ioapic__init(struct pc *pc)
{
	struct ioapic *io = ioapic_create(pc->lapic);

	if (!io)
		return -1;
	if (pc->apics) {
		ioapic__register(io, &pc->mmio);
		lapic_set_eoi_hook(pc->lapic, ioapic_eoi, io);
	}
	pc->ioapic = pc->lines.ioapic = io;
	return 0;
}

/* Send pin's message if its entry lets it through now.  An edge on a
 * masked pin is held and sent when the pin is unmasked, as QEMU's I/O
 * APIC does (its IRR): a UART that raised its line before the kernel
 * opened the pin (xv6 turns the COM1 interrupt on, then routes it) is
 * not lost. */
static void deliver(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	unsigned dm = (e >> 8) & 7;

	if (e & RTE_MASKED) {
		if (!(e & RTE_LEVEL))
			io->held |= 1u << pin;
		return;
	}
	io->held &= ~(1u << pin);
	if ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR))
		return;
	if (dm != 0 && dm != 1)          /* fixed, lowest priority */
		return;
	if (!lapic_match_dest(io->lapic, (uint32_t)(e >> 56),
			      (e & RTE_LOGICAL) != 0))
		return;
	if (e & RTE_LEVEL)
		io->rte[pin] |= RTE_REMOTE_IRR;
	lapic_accept(io->lapic, e & 0xff, (e & RTE_LEVEL) != 0);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	uint32_t bit;
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	bit = 1u << pin;
	was = io->lines & bit;
	if (level)
		io->lines |= bit;
	else
		io->lines &= ~bit;
	if (!level)
		return;
	if (io->rte[pin] & RTE_LEVEL || !was)
		deliver(io, pin);
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;
	unsigned i;

	for (i = 0; i < IOAPIC_PINS; i++) {
		uint64_t e = io->rte[i];

		if ((e & 0xff) != vector || !(e & RTE_LEVEL) ||
		    !(e & RTE_REMOTE_IRR))
			continue;
		io->rte[i] &= ~RTE_REMOTE_IRR;
		if (io->lines & (1u << i))
			deliver(io, i);
	}
}

static uint32_t read_reg(const struct ioapic *io, uint32_t idx)
{
	unsigned pin;

	switch (idx) {
	case 0: return io->id;
	case 1: return IOAPIC_VERSION;
	case 2: return io->id;           /* arbitration ID follows the ID */
	}
	if (idx < 0x10 || idx >= 0x10 + 2 * IOAPIC_PINS)
		return 0xffffffffu;
	pin = (idx - 0x10) / 2;
	return (uint32_t)(io->rte[pin] >> ((idx & 1) ? 32 : 0));
}

static void write_reg(struct ioapic *io, uint32_t idx, uint32_t val)
{
	uint64_t e, w;
	unsigned pin;

	if (idx == 0) {
		io->id = val & 0x0f000000u;
		return;
	}
	if (idx < 0x10 || idx >= 0x10 + 2 * IOAPIC_PINS)
		return;                  /* version, arbitration: read-only */
	pin = (idx - 0x10) / 2;
	e = io->rte[pin];
	w = (idx & 1) ? (e & 0xffffffffull) | ((uint64_t)val << 32)
		      : (e & ~0xffffffffull) | val;
	io->rte[pin] = (e & ~RTE_WRITABLE) | (w & RTE_WRITABLE);
	if (!(io->rte[pin] & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
	/* Unmasking a level-triggered pin whose line is up delivers it,
	 * and an edge-triggered one its held edge. */
	if ((io->rte[pin] & RTE_LEVEL) ? (io->lines & (1u << pin))
				       : (io->held & (1u << pin)))
		deliver(io, pin);
}

void ioapic_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		 uint64_t *val)
{
	struct ioapic *io = opaque;

	switch (offset & ~3ull) {
	case 0x00:
		if (write)
			io->sel = (uint32_t)*val & 0xff;
		else
			*val = io->sel;
		return;
	case 0x10:
		if (write)
			write_reg(io, io->sel, (uint32_t)*val);
		else
			*val = read_reg(io, io->sel);
		return;
	case 0x40:
		if (write)
			ioapic_eoi(io, (uint8_t)*val);
		else
			*val = 0;
		return;
	}
	if (!write)
		*val = 0;
}
