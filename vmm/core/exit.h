/*
 * The handlers of the run loop (run.c), one per reason the guest left:
 * an instruction the host refused (exit-insn.c), a page fault
 * (exit-fault.c).  Each leaves the vCPU as the guest's instruction would
 * have, with any exception it raised pending.
 */
#ifndef TRAPEZE_EXIT_H
#define TRAPEZE_EXIT_H

#include <capstone/capstone.h>

#include "core/vm.h"

/* #GP or #UD at RIP, or a syscall: emulate it or reflect the fault. */
void exit_insn(struct vm *vm, const struct host_trap *t);
/* int3: one the scanner planted, or the guest's own. */
void exit_breakpoint(struct vm *vm, const struct host_trap *t);
/* A plain exception of the guest's (#DE, #DB, #AC...). */
void exit_exception(struct vm *vm, const struct host_trap *t);
/* A page fault: the shadow MMU's business, a device's, or the guest's. */
void exit_page_fault(struct vm *vm, const struct host_trap *t);

/* Emulate the instruction at RIP (patched: the original the scanner
 * patched there, already decoded) and tell the tracer. */
enum emu_result exit_emulate(struct vm *vm, const cs_insn *patched);

#endif
