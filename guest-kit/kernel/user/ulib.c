/*
 * A little of libc for user programs: printf into a buffer and one
 * write(), and the memory functions the compiler may call by itself.
 */
#include "ulib.h"

struct buf {
	char *p;
	size_t len, pos;
};

static void put(struct buf *b, char c)
{
	if (b->pos < b->len)
		b->p[b->pos] = c;
	b->pos++;
}

static void put_num(struct buf *b, unsigned long long v, unsigned base,
		    int neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		put(b, pad);
	while (n)
		put(b, tmp[--n]);
}

/* One conversion of %[0][width][l]{d,u,x,s,c,%}; returns fmt past it. */
static const char *convert(struct buf *b, const char *fmt, va_list *ap)
{
	char pad = ' ';
	int width = 0, lng = 0;
	long long s;
	const char *str;

	if (*fmt == '0')
		pad = '0', fmt++;
	while (*fmt >= '0' && *fmt <= '9')
		width = width * 10 + (*fmt++ - '0');
	while (*fmt == 'l')
		lng = 1, fmt++;
	if (*fmt == 'd') {
		s = lng ? va_arg(*ap, long) : va_arg(*ap, int);
		put_num(b, s < 0 ? -(unsigned long long)s : (unsigned long long)s,
			10, s < 0, width, pad);
	} else if (*fmt == 'u' || *fmt == 'x') {
		put_num(b, lng ? va_arg(*ap, unsigned long)
			       : va_arg(*ap, unsigned), *fmt == 'u' ? 10 : 16,
			0, width, pad);
	} else if (*fmt == 's') {
		for (str = va_arg(*ap, const char *); *str; str++)
			put(b, *str);
	} else if (*fmt == 'c') {
		put(b, (char)va_arg(*ap, int));
	} else {
		put(b, *fmt);
	}
	return *fmt ? fmt + 1 : fmt;
}

int printf(const char *fmt, ...)
{
	char out[256];
	struct buf b = { out, sizeof(out), 0 };
	va_list ap;

	va_start(ap, fmt);
	while (*fmt) {
		if (*fmt == '%')
			fmt = convert(&b, fmt + 1, &ap);
		else
			put(&b, *fmt++);
	}
	va_end(ap);
	return (int)write(1, out, b.pos < b.len ? b.pos : b.len);
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}
