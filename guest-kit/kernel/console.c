/*
 * The kernel's console: formatted output through the pv-ops console (the
 * UART natively, one hypercall per line under Trapeze), panics, and the
 * command line's words.
 */
#include "kernel.h"

int verbose;

static int kvprintf(const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	pv->console_write(buf, n < (int)sizeof(buf) ? (size_t)n
						     : sizeof(buf) - 1);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();      /* nothing more runs: say why, and stop */
	kprintf("panic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	pv->shutdown(PANIC_STATUS);
}

/* Is word one of the space-separated words of cmdline? */
int cmdline_has(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	const char *s = cmdline;

	while (*s) {
		const char *end = s;

		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - s) == n && !memcmp(s, word, n))
			return 1;
		s = *end ? end + 1 : end;
	}
	return 0;
}
