/*
 * Hypercalls: the paravirtual interface of guest-kit/include/trapeze/abi.h.
 */
#ifndef TRAPEZE_HYPERCALL_H
#define TRAPEZE_HYPERCALL_H

#include "cpu/emulate.h"

/* Perform the hypercall in the vCPU's RAX/RDI/RSI/RDX/R10/R8; the result
 * goes to RAX.  Bad arguments are an error code, never a fault.  The
 * vCPU's hooks.hypercall: ctx is the struct vm. */
enum emu_result hypercall(void *ctx, struct vcpu *v);

const char *hypercall_name(unsigned nr);

#endif
