/*
 * The user library of the toy kernel's programs: system calls (start.S)
 * and a little of libc (ulib.c).
 */
#ifndef TOY_ULIB_H
#define TOY_ULIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi.h"

long write(int fd, const void *buf, size_t len);
void exit(int status) __attribute__((noreturn));
int getpid(void);
int yield(void);
int sleep(unsigned long ms);
int spawn(int prog);
int wait(int pid, uint64_t *report);
int report(uint64_t value);
unsigned long uptime(void);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
size_t strlen(const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* The programs (programs.c runs the one the kernel asks for). */
int init_main(void);
int hello_main(void);
int sieve_main(void);
int memory_main(void);
int sleeper_main(void);
int cli_main(void);
int peek_main(void);
int divzero_main(void);
int ops_main(void);
int yielder_main(void);
int true_main(void);

#endif
