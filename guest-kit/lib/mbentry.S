/*
 * The multiboot (v1) entry of guest-kit images, so that QEMU's -kernel
 * and other multiboot loaders can boot the same file Trapeze boots
 * through its ELF note.
 *
 * The header uses the address fields (flag 16): QEMU refuses to load an
 * ELF64 image through its ELF path but loads any image this way.  The
 * loader enters mb_entry32 in 32-bit protected mode, paging off, with
 * EAX = 0x2badb002 and EBX = the multiboot information.  We switch to long
 * mode on a throw-away identity map of the first GiB, then multiboot_boot()
 * (multiboot.c; this file is the assembly half) builds the Trapeze boot state and jumps to _start.
 */
#include "trapeze/multiboot.h"

#define MB_FLAGS (MB_HDR_MEMORY | MB_HDR_ADDRESS)

	.section .multiboot, "a"
	.balign	4
	.globl	multiboot_header
multiboot_header:
	.long	MB_HEADER_MAGIC
	.long	MB_FLAGS
	.long	-(MB_HEADER_MAGIC + MB_FLAGS)
	.long	multiboot_header      /* header_addr */
	.long	__image_start         /* load_addr */
	.long	__data_end            /* load_end_addr */
	.long	__image_end           /* bss_end_addr */
	.long	mb_entry32            /* entry_addr */

	.text
	.code32
	.globl	mb_entry32
mb_entry32:
	cli
	cmpl	$MB_BOOT_MAGIC, %eax
	jne	mb_hang
	movl	%ebx, mb_info

	/* PML4[0] -> PDPT, PDPT[0] -> PD, PD: 512 pages of 2 MiB. */
	movl	$mb_pdpt, %eax
	orl	$3, %eax
	movl	%eax, mb_pml4
	movl	$mb_pd, %eax
	orl	$3, %eax
	movl	%eax, mb_pdpt
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0x83, %eax
	movl	%eax, mb_pd(, %ecx, 8)
	incl	%ecx
	cmpl	$512, %ecx
	jne	1b

	movl	%cr4, %eax
	orl	$0x20, %eax              /* PAE */
	movl	%eax, %cr4
	movl	$mb_pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx        /* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax        /* PG, PE */
	movl	%eax, %cr0
	lgdt	mb_gdtr
	ljmp	$0x08, $mb_entry64

mb_hang:
	hlt
	jmp	mb_hang

	.code64
mb_entry64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	leaq	mb_stack_top(%rip), %rsp
	movl	mb_info(%rip), %edi
	call	multiboot_boot           /* never returns */
	jmp	mb_hang

/* void mb_enter(uint64_t entry): the Trapeze entry state, then entry. */
	.globl	mb_enter
mb_enter:
	movq	%rdi, %rax
	lgdt	mb_boot_gdtr(%rip)
	pushq	$0x08
	leaq	1f(%rip), %rcx
	pushq	%rcx
	lretq
1:	movw	$0x10, %cx
	movw	%cx, %ds
	movw	%cx, %es
	movw	%cx, %ss
	xorl	%ecx, %ecx
	movw	%cx, %fs
	movw	%cx, %gs
	lidt	mb_null_idtr(%rip)
	movq	$0x8000, %rcx            /* TRAPEZE_BOOT_PT_GPA */
	movq	%rcx, %cr3
	movq	$0xe0000011, %rcx        /* TRAPEZE_BOOT_CR0 */
	movq	%rcx, %cr0
	movq	$0x80000, %rsp           /* TRAPEZE_BOOT_STACK_TOP */
	movq	$0x1000, %rdi            /* TRAPEZE_BOOT_INFO_GPA */
	pushq	$2
	popfq
	xorl	%ebp, %ebp
	jmp	*%rax

	.section .rodata
	.balign	8
mb_gdt:
	.quad	0
	.quad	0x00af9b000000ffff       /* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff       /* 0x10: data */
mb_gdtr:
	.word	3 * 8 - 1
	.long	mb_gdt
mb_boot_gdtr:
	.word	3 * 8 - 1
	.quad	0x3000                   /* TRAPEZE_BOOT_GDT_GPA */
mb_null_idtr:
	.word	0
	.quad	0

	.bss
	.balign	4096
mb_pml4:	.skip	4096
mb_pdpt:	.skip	4096
mb_pd:		.skip	4096
	.balign	16
	.skip	8192
mb_stack_top:
mb_info:	.long	0

	.section .note.GNU-stack, "", @progbits
