/*
 * A round trip to user mode for guest kernels: enter_user() iretqs to CPL
 * 3 and returns when a trap handler calls leave_user() on the frame of a
 * trap taken from user mode.
 */
#include "trapeze/abi.h"

	.text
	.code64

/* void enter_user(uint64_t rip, uint64_t rsp) */
	.globl	enter_user
enter_user:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, user_resume_rsp(%rip)
	pushq	$0x3b                   /* SS = USER_DS */
	pushq	%rsi
	pushq	$0x202                  /* IF set */
	pushq	$0x43                   /* CS = USER_CS */
	pushq	%rdi
	iretq

/* Where a frame rewritten by leave_user() returns, at CPL 0. */
	.globl	user_exited
user_exited:
	movq	user_resume_rsp(%rip), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.bss
	.balign	8
	.globl	user_resume_rsp
user_resume_rsp:
	.quad	0

	.section .note.GNU-stack, "", @progbits
