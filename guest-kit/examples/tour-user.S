/*
 * The parts of the tour that must be assembly: a user-mode program and
 * the syscall entry point (LSTAR).
 */
#include "trapeze/abi.h"

	.text
	.code64

/* Runs at CPL 3: two system calls, then a privileged instruction. */
	.globl	user_program
user_program:
	movq	$1, %rax
	leaq	user_msg(%rip), %rdi
	syscall
	movq	$2, %rax
	movq	$7, %rdi
	syscall
	cli                             /* #GP: CPL 3 may not clear IF */
1:	jmp	1b

/* LSTAR: entered at CPL 0 on the user's stack, RCX = return RIP,
 * R11 = user RFLAGS. */
	.globl	syscall_entry
syscall_entry:
	movq	%rsp, user_rsp(%rip)
	leaq	syscall_stack_top(%rip), %rsp
	pushq	%rcx
	pushq	%r11
	movq	%rax, %rsi              /* tour_syscall(arg, nr, rip, flags) */
	movq	%rcx, %rdx
	movq	%r11, %rcx
	call	tour_syscall
	popq	%r11
	popq	%rcx
	movq	user_rsp(%rip), %rsp
	sysretq

	.section .rodata
user_msg:
	.asciz	"hello from user mode"

	.bss
	.balign	16
user_rsp:
	.quad	0
	.balign	16
	.skip	4096
syscall_stack_top:

	.section .note.GNU-stack, "", @progbits
