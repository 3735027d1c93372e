/*
 * Pages of ordinary code for the scanner benchmark: PAGES functions, each
 * filling one 4 KiB page with straight-line integer code (about 700
 * instructions), two sensitive instructions and the final ret.
 */
#define PAGES 32

	.section .text.scanbench, "ax"
	.balign	4096
	.globl	scan_pages
scan_pages:
	.rept	PAGES
	.balign	4096
	pushfq
	popfq
	.rept	130
	addq	$1, %rax
	movq	%rax, %rdx
	leaq	8(%rdx), %rcx
	xorq	%rcx, %rdx
	cmpq	%rdx, %rax
	.endr
	ret
	.endr

	.section .note.GNU-stack, "", @progbits
