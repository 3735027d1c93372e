/*
 * The system call entry (LSTAR).  `syscall` arrives here at CPL 0 with
 * interrupts off (SFMASK), RCX the user's RIP, R11 its RFLAGS, and RSP
 * still the user's stack: the first thing is to move to this process's
 * kernel stack.  The registers are saved as a struct trap_frame
 * (trapeze/desc.h), the same shape an interrupt leaves, so that C sees
 * one kind of frame.  The way back is sysretq, which takes RIP from RCX
 * and RFLAGS (IF on again) from R11; the RIP is always the one `syscall`
 * saved, so it is canonical and sysretq cannot fault at CPL 0.
 */
#include "trapeze/abi.h"
#include "trapeze/desc.h"
#include "trapeze/trapframe-asm.h"

#define SYSCALL_MARK 0x100              /* "vector" of a syscall frame */

	.text
	.code64
	.globl	syscall_entry
syscall_entry:
	movq	%rsp, user_rsp(%rip)
	movq	kernel_stack_top(%rip), %rsp
	pushq	$USER_DS                /* ss */
	pushq	user_rsp(%rip)          /* rsp */
	pushq	%r11                    /* rflags */
	pushq	$USER_CS                /* cs */
	pushq	%rcx                    /* rip */
	pushq	$0                      /* error */
	pushq	$SYSCALL_MARK           /* vector */
	PUSH_GPRS
	movq	%rsp, %rdi
	cld
	call	syscall_dispatch
	POP_GPRS
	addq	$16, %rsp               /* vector and error code */
	popq	%rcx                    /* rip */
	addq	$8, %rsp                /* cs */
	popq	%r11                    /* rflags */
	popq	%rsp                    /* the user's stack, last */
	sysretq

	.bss
	.balign	8
	.globl	kernel_stack_top
kernel_stack_top:
	.quad	0
user_rsp:
	.quad	0

	.section .note.GNU-stack, "", @progbits
