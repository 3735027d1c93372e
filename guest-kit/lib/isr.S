/*
 * Interrupt entry stubs: one per vector, all meeting in isr_common, which
 * saves the registers as a struct trap_frame and calls isr_dispatch().
 * Vectors where the CPU pushes an error code (8, 10-14, 17, 21, 29, 30)
 * skip the dummy push so every frame has the same shape.
 */
#include "trapeze/trapframe-asm.h"
	.text
	.code64

	.macro	STUB vec
	.balign	16
isr_stub_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	isr_common
	.endm

	.altmacro
	.macro	STUBS from, to
	STUB	\from
	.if	\to-\from
	STUBS	%(\from+1), \to
	.endif
	.endm

	STUBS	0, 63
	STUBS	64, 127
	STUBS	128, 191
	STUBS	192, 255

isr_common:
	PUSH_GPRS
	movq	%rsp, %rdi
	cld
	call	isr_dispatch
	POP_GPRS
	addq	$16, %rsp               /* vector and error code */
	iretq

	.section .rodata
	.balign	8
	.globl	isr_stub_table
isr_stub_table:
	.macro	ENTRY vec
	.quad	isr_stub_\vec
	.endm
	.macro	ENTRIES from, to
	ENTRY	\from
	.if	\to-\from
	ENTRIES	%(\from+1), \to
	.endif
	.endm
	ENTRIES	0, 63
	ENTRIES	64, 127
	ENTRIES	128, 191
	ENTRIES	192, 255

	.section .note.GNU-stack, "", @progbits
