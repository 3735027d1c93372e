/*
 * Switching kernel stacks, and the way into a new process.
 *
 * swtch() saves the callee-saved registers on the current stack, records
 * the stack pointer, loads another and pops that one's: a C call that
 * returns in another thread of control, with everything else (the user
 * registers, the interrupt state) already saved by the entry path below
 * it on that stack.
 */
#include "trapeze/trapframe-asm.h"
	.text
	.code64

/* void swtch(uint64_t *save_rsp, uint64_t load_rsp) */
	.globl	swtch
swtch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

/* Where a new process's first swtch() returns: above it on the stack is
 * a struct trap_frame (trapeze/desc.h) for its first iretq to CPL 3. */
	.globl	trapret
trapret:
	POP_GPRS
	addq	$16, %rsp               /* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
