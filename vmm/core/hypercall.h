/*
 * Hypercalls: the paravirtual interface of guest-kit/include/trapeze/abi.h.
 */
#ifndef TRAPEZE_HYPERCALL_H
#define TRAPEZE_HYPERCALL_H

#include "cpu/emulate.h"

struct vm;

/* Perform the hypercall in the vCPU's RAX/RDI/RSI/RDX/R10/R8; the result
 * goes to RAX.  Bad arguments are an error code, never a fault. */
enum emu_result hypercall(struct vm *vm);

const char *hypercall_name(unsigned nr);

#endif
