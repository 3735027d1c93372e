/*
 * The far transfers of the Popek-Goldberg demonstration.  Each one goes
 * to selector 0x30, a 64-bit code segment of the guest's own GDT at DPL 0.
 * On the host, slot 6 is Linux's 64-bit user code (0x33), which CPL 3 may
 * use: a native far transfer there succeeds without a trap, so a pure
 * trap-and-emulate monitor never learns that CS changed.  The target runs
 * int3, whose frame shows the CS the guest's CPU believes in, then comes
 * back to CS 0x08.  The pointers are m16:32: with REX.W Intel reads
 * m16:64 but AMD still reads m16:32, so only m16:32 means the same on
 * both.
 */
	.text
	.code64

/* uint64_t pg_far_call(void): lcall through an m16:32 pointer */
	.globl	pg_far_call
pg_far_call:
	subq	$16, %rsp
	leaq	far_target_ret(%rip), %rax
	movl	%eax, (%rsp)
	movw	$0x30, 4(%rsp)
	lcall	*(%rsp)
	addq	$16, %rsp
	ret

/* The callee: show CS, then a 32-bit far return (it pushed CS:EIP). */
far_target_ret:
	int3
	lret

/* uint64_t pg_far_jmp(void): ljmp through an m16:32 pointer */
	.globl	pg_far_jmp
pg_far_jmp:
	pushq	$0x08                    /* where far_target_back returns */
	leaq	1f(%rip), %rax
	pushq	%rax
	subq	$16, %rsp
	leaq	far_target_back(%rip), %rax
	movl	%eax, (%rsp)
	movw	$0x30, 4(%rsp)
	ljmp	*(%rsp)
1:	ret

far_target_back:
	int3
	addq	$16, %rsp                /* drop the pointer */
	lretq

/*
 * void pg_far_ret(void): lretq to 0x33, our DPL-0 code segment 0x30 asked
 * for with RPL 3.  At CPL 0 that is a return to an outer level whose
 * code segment has the wrong DPL: #GP(0x30), which the guest's handler
 * turns into a jump to pg_recover.  At host CPL 3 it is a plain
 * same-level return to Linux's user code segment.
 */
	.globl	pg_far_ret, pg_recover, pg_saved_rsp
pg_far_ret:
	movq	%rsp, pg_saved_rsp(%rip)
	pushq	$0x10                    /* SS */
	pushq	pg_saved_rsp(%rip)       /* RSP */
	pushq	$0x33                    /* CS */
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	int3                             /* only where the lretq ran */
	movq	pg_saved_rsp(%rip), %rsp
	pushq	$0x08
	leaq	pg_recover(%rip), %rax
	pushq	%rax
	lretq
pg_recover:
	movq	pg_saved_rsp(%rip), %rsp
	ret

	.bss
	.balign	8
pg_saved_rsp:
	.quad	0

	.section .note.GNU-stack, "", @progbits
