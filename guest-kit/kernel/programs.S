/*
 * The user image (user/user.elf, every built-in program) carried inside
 * the kernel as read-only data; exec.c loads it into each new process.
 */
	.section .rodata
	.balign	16
	.globl	user_elf, user_elf_end
user_elf:
	.incbin	"guest-kit/kernel/user/user.elf"
user_elf_end:

	.section .note.GNU-stack, "", @progbits
