/*
 * The first instructions the monitor runs on every trap.
 *
 * The guest runs in this process with its own FS base: glibc keeps its
 * thread pointer at %fs, so no C may run until the monitor's FS base is
 * back.  This stub is the signal handler the kernel calls (on the
 * alternate signal stack): it saves the guest's FS and GS bases, installs
 * the monitor's FS base, calls trap_handle(sig, info, ucontext) in C, and
 * on the way out loads the bases the vCPU says the guest has.
 *
 * On the way out to 32-bit guest code (trap_data32 set by the backend) it
 * also loads DS and ES with the host's flat user data selector (0x2b).
 * 64-bit code ignores them, but a guest in 32-bit protected or
 * compatibility mode runs natively on the host's 32-bit code segment,
 * where a null DS (a 64-bit process's usual) would fault on every
 * access; sigreturn restores neither register, and a guest's native load
 * of one (possible under --cpu=trap) is undone here.
 *
 * trap_fs_mode 0: FSGSBASE is enabled, rd/wr{fs,gs}base work (a few ns).
 * trap_fs_mode 1: no FSGSBASE: arch_prctl(ARCH_SET_FS) on every entry
 *                 (a guest selector load may have reset the base, and
 *                 without rdfsbase nothing cheap can tell), and on exit
 *                 only when the guest's FS base differs from the
 *                 monitor's.  The GS base is set from C (backend).
 */
	.text
	.globl	trap_entry
	.type	trap_entry, @function
trap_entry:
	cmpl	$0, trap_fs_mode(%rip)
	jne	1f
	rdfsbase %rax
	movq	%rax, trap_guest_fs(%rip)
	rdgsbase %rax
	movq	%rax, trap_guest_gs(%rip)
	movq	trap_monitor_fs(%rip), %rax
	wrfsbase %rax
	jmp	2f
1:	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	movl	$158, %eax              /* SYS_arch_prctl */
	movl	$0x1002, %edi           /* ARCH_SET_FS */
	movq	trap_monitor_fs(%rip), %rsi
	syscall
	popq	%rdx
	popq	%rsi
	popq	%rdi
2:	subq	$8, %rsp                /* align the stack for the call */
	call	trap_handle
	addq	$8, %rsp
	cmpl	$0, trap_data32(%rip)
	je	5f
	movl	$0x2b, %eax             /* Linux's __USER_DS */
	movl	%eax, %ds
	movl	%eax, %es
5:
	cmpl	$0, trap_fs_mode(%rip)
	jne	3f
	movq	trap_guest_gs(%rip), %rax
	wrgsbase %rax
	movq	trap_guest_fs(%rip), %rax
	wrfsbase %rax
	ret
3:	movq	trap_guest_fs(%rip), %rsi
	cmpq	trap_monitor_fs(%rip), %rsi
	je	4f
	movl	$158, %eax
	movl	$0x1002, %edi
	syscall
4:	ret
	.size	trap_entry, .-trap_entry

	.bss
	.align	8
	.globl	trap_guest_fs, trap_guest_gs, trap_monitor_fs, trap_fs_mode
	.globl	trap_data32
trap_guest_fs:	.quad 0
trap_guest_gs:	.quad 0
trap_monitor_fs: .quad 0
trap_fs_mode:	.long 0
trap_data32:	.long 0

	.section .note.GNU-stack,"",@progbits
