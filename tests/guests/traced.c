/*
 * traced: a guest whose traps are known in advance, for the tests of
 * `trapeze trace` (tests/integration/trace.sh).  Each count below is
 * asserted against the -c summary; the labelled instructions against
 * exact trace lines; the nested calls against the -k frames.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define POST_OUTS 100     /* out to port 0x80 */
#define WBINVDS 13
#define BREAKPOINTS 5     /* int3, each delivered as #BP */

static unsigned bp_seen;

static void on_bp(struct trap_frame *f)
{
	bp_seen++;
}

/* The labels name the instructions so that the test can find their
 * addresses with nm and expect them, symbol and all, on a trace line. */
static void __attribute__((noinline)) leaf(void)
{
	__asm__ volatile(".globl traced_out_H\n"
			 "traced_out_H:\n\t"
			 "outb %%al, %%dx"
			 : : "a"('H'), "d"(0x3f8) : "memory");
	__asm__ volatile(".globl traced_in_lsr\n"
			 "traced_in_lsr:\n\t"
			 "inb %%dx, %%al"
			 : : "d"(0x3fd) : "eax", "memory");
}

static void __attribute__((noinline)) middle(void)
{
	leaf();
	__asm__ volatile("" : : : "memory");   /* no tail call */
}

static void __attribute__((noinline)) outer(void)
{
	middle();
	__asm__ volatile("" : : : "memory");
}

int guest_main(const struct trapeze_boot_info *bi)
{
	unsigned i;

	gdt_init();
	idt_init();
	idt_set_handler(3, on_bp);
	outer();
	serial_putc('\n');
	for (i = 0; i < POST_OUTS; i++)
		outb(0x80, (uint8_t)i);
	for (i = 0; i < WBINVDS; i++)
		__asm__ volatile("wbinvd" : : : "memory");
	for (i = 0; i < BREAKPOINTS; i++)
		__asm__ volatile("int3" : : : "memory");
	printf("traced: %u breakpoints seen\n", bp_seen);
	return 0;
}
