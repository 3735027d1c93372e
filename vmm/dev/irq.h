/*
 * The PC's interrupt lines.  A device holds its line (struct irq_line)
 * and raises or lowers it; it never learns where the line goes.  The
 * board wires every line through one router: ISA IRQs 0-15 to the pair
 * of 8259s, and every line to the I/O APIC, IRQ 0 on pin 2 (as QEMU
 * wires the PIT, and as the MP and ACPI tables say).
 */
#ifndef TRAPEZE_DEV_IRQ_H
#define TRAPEZE_DEV_IRQ_H

#include <stdbool.h>

struct ioapic;
struct pic;

typedef void (*irq_line_fn)(void *opaque, unsigned line, bool level);

struct irq_line {
	irq_line_fn set;          /* NULL: a line wired to nothing */
	void *opaque;
	unsigned line;            /* ISA IRQ 0-15, or an I/O APIC pin */
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->opaque, l->line, level);
}

/* A line n places past l (pc-testdev drives any of its 24). */
static inline void irq_line_set_nth(const struct irq_line *l, unsigned n,
				    bool level)
{
	if (l->set)
		l->set(l->opaque, l->line + n, level);
}

/* Where the lines go: the board's interrupt controllers. */
struct irq_router {
	struct pic *pic;
	struct ioapic *ioapic;        /* NULL without APICs */
};

/* An irq_line_fn over the router (opaque is the struct irq_router). */
void irq_route(void *router, unsigned line, bool level);

static inline struct irq_line irq_router_line(struct irq_router *r,
					      unsigned line)
{
	return (struct irq_line){ irq_route, r, line };
}

#endif
