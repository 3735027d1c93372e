/*
 * struct trap_frame (trapeze/desc.h) from assembly: the general registers
 * go below the vector, the error code and the CPU's interrupt frame, in
 * the order the struct lists them.  Used by the guest kit's interrupt
 * stubs (lib/isr.S) and by kernels' own entry and exit paths (the toy
 * kernel's syscall entry and first return to user mode).
 */
#ifndef TRAPEZE_TRAPFRAME_ASM_H
#define TRAPEZE_TRAPFRAME_ASM_H

#ifdef __ASSEMBLER__
	.macro	PUSH_GPRS
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	.endm

	.macro	POP_GPRS
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	.endm
#endif

#endif
