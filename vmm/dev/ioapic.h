/*
 * The I/O APIC at 0xfec00000 (Intel 82093AA data sheet): 24 input pins,
 * each with a redirection entry that turns a level or an edge into an
 * interrupt message for a local APIC.
 */
#ifndef TRAPEZE_IOAPIC_H
#define TRAPEZE_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS 24

struct ioapic;
struct lapic;
struct pc;
struct mmio_bus;

struct ioapic *ioapic_create(struct lapic *lapic);
void ioapic_destroy(struct ioapic *io);
void ioapic__register(struct ioapic *io, struct mmio_bus *bus);
/* The I/O APIC at 0xfec00000, after the local APIC's init. */
int ioapic__init(struct pc *pc);

/* An input pin's level (a GSI). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* The local APIC's EOI of a level-triggered vector: clear remote IRR of
 * the entries with that vector, and deliver again if the line is still
 * up. */
void ioapic_eoi(void *opaque, uint8_t vector);

/* Register window: IOREGSEL at +0, IOWIN at +0x10, EOI at +0x40. */
void ioapic_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		 uint64_t *val);

#endif
