/*
 * Guest images built into the trapeze binary, so that `trapeze demo`
 * works from anywhere, installed or not.
 */
	.section .rodata
	.balign	16
	.globl	embedded_pg_start, embedded_pg_end
embedded_pg_start:
	.incbin	"guest-kit/examples/popek-goldberg.elf"
embedded_pg_end:

	.section .note.GNU-stack, "", @progbits
