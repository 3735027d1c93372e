/*
 * Guest images built into the trapeze binary, so that `trapeze run`
 * with no guest and `trapeze demo` work from anywhere, installed or not.
 */
	.section .rodata
	.balign	16
	.globl	embedded_pg_start, embedded_pg_end
embedded_pg_start:
	.incbin	"guest-kit/examples/popek-goldberg.elf"
embedded_pg_end:

	.balign	16
	.globl	embedded_kernel_start, embedded_kernel_end
embedded_kernel_start:
	.incbin	"guest-kit/kernel/kernel.elf"
embedded_kernel_end:

	.section .note.GNU-stack, "", @progbits
