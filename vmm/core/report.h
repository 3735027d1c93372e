/*
 * The one-screen report printed when a guest crashes or is stopped: what
 * happened, where, the code there, and the vCPU's registers.
 */
#ifndef TRAPEZE_REPORT_H
#define TRAPEZE_REPORT_H

#include <stdarg.h>
#include <stdio.h>

struct vm;

void report_crash(struct vm *vm, FILE *f, const char *fmt, va_list ap);
/* "rip 0x1234 (cpl 0, 64-bit)" and the instruction there, on one line. */
void report_where(struct vm *vm, FILE *f);
/* Format an RFLAGS value as names: "IF ZF". */
const char *report_flags(unsigned long long rflags, char *buf, size_t len);

#endif
