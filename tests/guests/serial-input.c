/*
 * serial-input: COM1's receive interrupt, as xv6's uart.c uses it.  The
 * guest enables the received-data interrupt (IER bit 0), unmasks IRQ 4 in
 * the 8259, and sleeps in sti; hlt with no timer running: only input can
 * wake it.  Its handler reports IIR and LSR as it finds them and drains
 * the receive buffer; the main loop prints each byte.  A 'q' ends the
 * run; so does the end of the input (nothing can wake the guest then).
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define COM1 0x3f8
#define VECTOR_BASE 0x20
#define IRQ_COM1 4

static volatile uint8_t rx[256];
static volatile unsigned rx_head, rx_tail, irqs;
static volatile uint8_t first_iir, first_lsr;

static void on_com1(struct trap_frame *f)
{
	uint8_t iir = inb(COM1 + 2), lsr = inb(COM1 + 5);

	if (!irqs++) {
		first_iir = iir;
		first_lsr = lsr;
	}
	while (inb(COM1 + 5) & 0x01)
		rx[rx_head++ % 256] = inb(COM1 + 0);
	outb(0x20, 0x20);
}

static void pic_init(void)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, VECTOR_BASE); outb(0xa1, VECTOR_BASE + 8);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, (uint8_t)~(1 << IRQ_COM1));
	outb(0xa1, 0xff);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	int reported = 0;

	gdt_init();
	idt_init();
	idt_set_handler(VECTOR_BASE + IRQ_COM1, on_com1);
	pic_init();
	outb(COM1 + 2, 0);                    /* no FIFO, as xv6 */
	outb(COM1 + 1, 0x01);                 /* received-data interrupt */
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (irqs && !reported) {
			printf("IRQ 4: IIR 0x%x, LSR 0x%x\n", first_iir,
			       first_lsr);
			reported = 1;
		}
		while (rx_tail != rx_head) {
			uint8_t c = rx[rx_tail++ % 256];

			if (c >= 0x20 && c < 0x7f)
				printf("got '%c'\n", c);
			else
				printf("got 0x%x\n", c);
			if (c == 'q')
				return 0;
		}
	}
}
