/*
 * vsnprintf and snprintf for guests: no floating point, no locale, no
 * allocation.  Pure code, shared by libguest (kernels) and the toy
 * kernel's user library (guest-kit/kernel/user), which print through
 * different doors (the serial port, a write system call).
 */
#include <stdarg.h>
#include <stddef.h>

#include "trapeze/guest.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base,
		    int neg, int width, char pad, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	if (neg && pad == '0') {
		put(o, '-');
		n--;
		width--;
	}
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };

	for (; *fmt; fmt++) {
		int width = 0, lng = 0, left = 0, prec = -1;
		char pad = ' ';
		unsigned long long u;
		long long s;
		const char *str;
		int n;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '-')
			left = 1, fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.' && fmt[1] == '*') {
			prec = va_arg(ap, int);
			fmt += 2;
		} else if (*fmt == '.') {
			prec = 0;
			for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		}
		while (*fmt == 'l')
			lng++, fmt++;
		if (*fmt == 'z')
			lng = 1, fmt++;
		switch (*fmt) {
		case 'd': case 'i':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			put_num(&o, s < 0 ? -(unsigned long long)s : (unsigned long long)s,
				10, s < 0, width, pad, 0);
			break;
		case 'u': case 'x': case 'X':
			u = lng ? va_arg(ap, unsigned long long)
				: va_arg(ap, unsigned int);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, 0, width, pad,
				*fmt == 'X');
			break;
		case 'p':
			put(&o, '0'), put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, width,
				pad, 0);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			n = (int)strlen(str);
			if (prec >= 0 && prec < n)
				n = prec;
			width -= n;
			while (!left && width-- > 0)
				put(&o, ' ');
			while (n--)
				put(&o, *str++);
			while (left && width-- > 0)
				put(&o, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
		if (!*fmt)
			break;
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = 0;
	return (int)o.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

