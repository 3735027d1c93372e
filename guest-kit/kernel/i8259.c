/*
 * The two 8259A interrupt controllers of a PC.  At reset they deliver
 * IRQs 0-7 at vectors 8-15, on top of the CPU's exceptions, so the first
 * thing a protected-mode kernel does is reprogram them (ICW1-ICW4) to
 * vectors 0x20-0x2f.  Every IRQ starts masked; the kernel unmasks the
 * ones it drives and acknowledges each interrupt with an EOI, without
 * which the controller holds back that line and everything of lower
 * priority.  (Intel 8259A data sheet.)
 */
#include "kernel.h"

#define MASTER      TRAPEZE_PORT_PIC_MASTER
#define SLAVE       TRAPEZE_PORT_PIC_SLAVE
#define ICW1_INIT   0x11    /* edge triggered, cascade, ICW4 follows */
#define ICW4_8086   0x01
#define OCW2_EOI    0x20
#define OCW3_ISR    0x0b    /* next read of the command port: the ISR */
#define CASCADE_IRQ 2

static uint16_t mask = 0xffff & ~(1u << CASCADE_IRQ);

static void write_mask(void)
{
	outb(MASTER + 1, (uint8_t)mask);
	outb(SLAVE + 1, (uint8_t)(mask >> 8));
}

void pic_init(void)
{
	outb(MASTER, ICW1_INIT);
	outb(SLAVE, ICW1_INIT);
	outb(MASTER + 1, TIMER_VECTOR);         /* ICW2: vector base */
	outb(SLAVE + 1, TIMER_VECTOR + 8);
	outb(MASTER + 1, 1u << CASCADE_IRQ);    /* ICW3: slave on IRQ 2 */
	outb(SLAVE + 1, CASCADE_IRQ);           /* ICW3: our cascade id */
	outb(MASTER + 1, ICW4_8086);
	outb(SLAVE + 1, ICW4_8086);
	write_mask();
}

void pic_unmask(unsigned irq)
{
	mask &= (uint16_t)~(1u << irq);
	write_mask();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(SLAVE, OCW2_EOI);
	outb(MASTER, OCW2_EOI);
}

/* IRQ 7 and 15 also arrive when a line drops before the CPU answers: such
 * a spurious interrupt is not in service and must not be acknowledged
 * (except, for 15, to the master, which did see the cascade). */
int pic_spurious(unsigned irq)
{
	uint16_t port = irq >= 8 ? SLAVE : MASTER;

	outb(port, OCW3_ISR);
	if (inb(port) & (1u << (irq & 7)))
		return 0;
	if (irq >= 8)
		outb(MASTER, OCW2_EOI);
	return 1;
}
