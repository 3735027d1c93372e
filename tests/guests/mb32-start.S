/*
 * The 32-bit multiboot test guest, assembly half: the multiboot header
 * (ELF form, no address fields), the 32-bit entry, the switch to long
 * mode a multiboot kernel makes for itself, and the 64-bit code that
 * proves it arrived.  mb32.c is the 32-bit C half.
 *
 * What it exercises under Trapeze: native 32-bit code in the host's
 * compatibility mode; lgdt with a 6-byte operand, segment reloads and a
 * far jump in protected mode; mov to CR4, CR3 and CR0 and wrmsr EFER.LME
 * from 32-bit code; compatibility mode on the guest's own page tables;
 * the far jump to a 64-bit code segment; 64-bit code on shadowed tables.
 */
#include "trapeze/multiboot.h"

#define MB32_FLAGS (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY)

#define CODE32 0x08
#define DATA   0x10
#define CODE64 0x18

	.section .multiboot, "a"
	.balign	4
	.long	MB_HEADER_MAGIC
	.long	MB32_FLAGS
	.long	-(MB_HEADER_MAGIC + MB32_FLAGS)

	.text
	.code32
	.globl	mb32_entry
mb32_entry:
	movl	$mb32_stack_top, %esp
	pushl	%ebx                     /* the multiboot information */
	pushl	%eax                     /* the loader's magic */
	call	mb32_main                /* prints what it found */
	addl	$8, %esp

	/* Our own GDT: the loader's may be anywhere, or gone. */
	lgdtl	mb32_gdtr
	movw	$DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	ljmpl	$CODE32, $1f
1:
	/* PML4[0] -> PDPT, PDPT[0] -> PD: the first GiB, 2 MiB pages. */
	movl	$mb32_pdpt + 3, mb32_pml4
	movl	$mb32_pd + 3, mb32_pdpt
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax              /* present, writable, 2 MiB */
	movl	%eax, mb32_pd(, %ecx, 8)
	incl	%ecx
	cmpl	$512, %ecx
	jne	2b

	movl	%cr4, %eax
	orl	$0x20, %eax              /* CR4.PAE */
	movl	%eax, %cr4
	movl	$mb32_pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx        /* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax        /* CR0.PG: long mode is active */
	movl	%eax, %cr0

	call	mb32_compat              /* still 32-bit code, paging on */

	ljmpl	$CODE64, $mb64_entry

	.code64
mb64_entry:
	movw	$DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$mb64_stack_top, %esp
	movl	$msg_long, %esi
	call	puts64
	movq	%cs, %rax
	cmpq	$CODE64, %rax
	movl	$msg_cs_bad, %esi
	jne	3f
	movl	$msg_cs_ok, %esi
3:	call	puts64
	movl	$0xc0000080, %ecx
	rdmsr
	andl	$0xd01, %eax             /* SCE, LME, LMA, NXE */
	cmpl	$0x500, %eax
	movl	$msg_efer_bad, %esi
	jne	4f
	movl	$msg_efer_ok, %esi
4:	call	puts64
	/* A 64-bit push of a register with its upper half set survives. */
	movabsq	$0x123456789abcdef0, %rax
	pushq	%rax
	popq	%rbx
	cmpq	%rax, %rbx
	movl	$msg_wide_bad, %esi
	jne	5f
	movl	$msg_wide_ok, %esi
5:	call	puts64
	/* Page 0 through the guest's own tables, from 64-bit code. */
	movl	$0x7f8, %edi
	movq	%rax, (%rdi)
	cmpq	(%rdi), %rax
	movl	$msg_page0_bad, %esi
	jne	6f
	movl	$msg_page0_ok, %esi
6:	call	puts64
	movw	$0xf4, %dx               /* isa-debug-exit: status 1 */
	xorl	%eax, %eax
	outb	%al, %dx
	hlt

/* puts64: the NUL-terminated string at RSI to COM1. */
puts64:
	movw	$0x3f8, %dx
1:	lodsb
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	ret

	.section .rodata
msg_long:	.asciz	"mb64: 64-bit code after the far jump\n"
msg_cs_ok:	.asciz	"mb64: CS is the guest's 64-bit selector 0x18\n"
msg_cs_bad:	.asciz	"mb64: CS is not 0x18\n"
msg_efer_ok:	.asciz	"mb64: EFER has LME and LMA, not SCE or NXE\n"
msg_efer_bad:	.asciz	"mb64: EFER is not LME|LMA\n"
msg_wide_ok:	.asciz	"mb64: 64-bit registers hold 64 bits\n"
msg_wide_bad:	.asciz	"mb64: a 64-bit register lost its upper half\n"
msg_page0_ok:	.asciz	"mb64: page 0 holds a 64-bit store\n"
msg_page0_bad:	.asciz	"mb64: page 0 lost a 64-bit store\n"

	.balign	8
mb32_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff       /* 0x08: flat 32-bit code */
	.quad	0x00cf93000000ffff       /* 0x10: flat data */
	.quad	0x00af9b000000ffff       /* 0x18: 64-bit code */
mb32_gdtr:
	.word	4 * 8 - 1
	.long	mb32_gdt

	.bss
	.balign	4096
mb32_pml4:	.skip	4096
mb32_pdpt:	.skip	4096
mb32_pd:	.skip	4096
	.skip	8192
mb32_stack_top:
	.skip	8192
mb64_stack_top:

	.section .note.GNU-stack, "", @progbits
