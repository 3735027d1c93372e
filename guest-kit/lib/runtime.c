/*
 * The guest-kit runtime: console, a small printf, exit, and the string
 * functions a freestanding compiler may call on its own.
 */
#include "trapeze/guest.h"

static int use_hypercall;

void serial_putc(char c)
{
	outb(TRAPEZE_PORT_COM1, (uint8_t)c);
}

void console_use_hypercall(int on)
{
	use_hypercall = on;
}

void serial_write(const char *s, size_t n)
{
	if (use_hypercall) {
		hypercall2(TRAPEZE_HC_CONSOLE_WRITE, (long)s, (long)n);
		return;
	}
	while (n--)
		serial_putc(*s++);
}

void guest_exit(int status)
{
	outb(TRAPEZE_PORT_DEBUG_EXIT, (uint8_t)status);
	for (;;) {
		cli();
		hlt();
	}
}

void guest_start(const struct trapeze_boot_info *bi);
void guest_start(const struct trapeze_boot_info *bi)
{
	guest_exit(guest_main(bi));
}

/* ---- printf: formatting is format.c's --------------------------------- */

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}
