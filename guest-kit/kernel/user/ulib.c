/*
 * A little of libc for user programs: printf into a buffer and one
 * write().  The formatting and the memory functions the compiler may call
 * by itself are the guest kit's own (guest-kit/lib/format.c, string.c),
 * built into the user image too.
 */
#include "ulib.h"

int printf(const char *fmt, ...)
{
	char out[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	return (int)write(1, out, n < (int)sizeof(out) ? (size_t)n
						 : sizeof(out) - 1);
}
