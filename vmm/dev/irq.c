/*
 * The PC's interrupt lines (see irq.h): the one place where a device's
 * line meets the interrupt controllers.
 */
#include "dev/ioapic.h"
#include "dev/irq.h"
#include "dev/pic.h"

void irq_route(void *router, unsigned line, bool level)
{
	struct irq_router *r = router;

	if (line < 16)
		pic_set_irq(r->pic, line, level);
	if (r->ioapic)
		ioapic_set_irq(r->ioapic, line == 0 ? 2 : line, level);
}
