/*
 * The parts of the tour that must be assembly: a user-mode program, the
 * syscall entry point (LSTAR), and the switch into user mode and back.
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

/* void enter_user(uint64_t rip, uint64_t rsp): iretq to CPL 3; comes
 * back through user_exited when the user program is stopped. */
	.globl	enter_user
enter_user:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, kernel_resume_rsp(%rip)
	pushq	$0x3b                   /* SS = USER_DS */
	pushq	%rsi
	pushq	$0x202                  /* IF set */
	pushq	$0x43                   /* CS = USER_CS */
	pushq	%rdi
	iretq

	.globl	user_exited
user_exited:
	movq	kernel_resume_rsp(%rip), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.section .rodata
user_msg:
	.asciz	"hello from user mode"

	.bss
	.balign	16
	.globl	kernel_resume_rsp
kernel_resume_rsp:
	.quad	0
user_rsp:
	.quad	0
	.balign	16
	.skip	4096
syscall_stack_top:

	.section .note.GNU-stack, "", @progbits
