/*
 * Start-up code of a Trapeze guest (64-bit entry, docs/guest-abi.md).
 * The monitor enters at _start in long mode at virtual CPL 0 with RDI
 * pointing at the boot info; we move to our own stack and call C.
 * The note tells the monitor where this entry is.
 */
#include "trapeze/abi.h"

	.section .text.entry, "ax"
	.code64
	.globl	_start
	.type	_start, @function
_start:
	leaq	guest_stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	call	guest_start              /* never returns */
1:	cli
	hlt
	jmp	1b
	.size	_start, .-_start

	.section .note.trapeze, "a"
	.balign	4
	.long	8                        /* n_namesz: "Trapeze\0" */
	.long	8                        /* n_descsz */
	.long	TRAPEZE_NOTE_ENTRY64
	.asciz	TRAPEZE_NOTE_NAME
	.balign	4
	.quad	_start

	.bss
	.balign	16
	.globl	guest_stack, guest_stack_top
guest_stack:
	.skip	32768
guest_stack_top:

	.section .note.GNU-stack, "", @progbits
