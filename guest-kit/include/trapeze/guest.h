/*
 * The guest-kit runtime: what a guest needs to be a few lines of C.
 * A guest defines guest_main(); the start-up code calls it with the boot
 * info and ends the run with its return value through isa-debug-exit
 * (status (v << 1) | 1 on Trapeze and on QEMU alike).
 */
#ifndef TRAPEZE_GUEST_H
#define TRAPEZE_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "trapeze/abi.h"
#include "trapeze/cpu.h"

int guest_main(const struct trapeze_boot_info *bi);

/* The console: COM1, one out instruction per byte. */
void serial_putc(char c);
void serial_write(const char *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Send printf output through the console_write hypercall instead: one
 * trap per call instead of one per byte.  Only under Trapeze. */
void console_use_hypercall(int on);

void guest_exit(int status) __attribute__((noreturn));

/* Hypercalls (int $0x82): only under Trapeze, at virtual CPL 0. */
static inline long hypercall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("int $0x82" : "=a"(ret) : "a"(nr), "D"(a), "S"(b)
			 : "memory");
	return ret;
}

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
unsigned long strtoul(const char *s, char **end, int base);

#endif /* TRAPEZE_GUEST_H */
