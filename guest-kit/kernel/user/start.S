/*
 * User-mode start-up and system call stubs.  The kernel enters ustart at
 * CPL 3 with RDI = the program number and RSP = the top of a demand-zero
 * stack; each stub moves the fourth argument to R10 (`syscall` takes RCX
 * for the return address) and traps.
 */
#include "uapi.h"

	.section .text.entry, "ax"
	.code64
	.globl	ustart
ustart:
	xorl	%ebp, %ebp
	call	user_main                /* exits; never returns */
	ud2

	.text
	.macro	STUB name, nr
	.globl	\name
\name:
	movl	$\nr, %eax
	movq	%rcx, %r10
	syscall
	ret
	.endm

	STUB	write, SYS_write
	STUB	exit, SYS_exit
	STUB	getpid, SYS_getpid
	STUB	yield, SYS_yield
	STUB	sleep, SYS_sleep
	STUB	spawn, SYS_spawn
	STUB	wait, SYS_wait
	STUB	report, SYS_report
	STUB	uptime, SYS_uptime

	.section .note.GNU-stack, "", @progbits
