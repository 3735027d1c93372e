/*
 * The 32-bit multiboot test guest, C half, compiled -m32: what a
 * multiboot loader handed over (magic, information block, command line,
 * CPU state), printed on COM1 from protected mode; then one line from
 * compatibility mode, after the switch to long mode (mb32-start.S).
 * Everything printed is what the multiboot specification promises, so
 * QEMU and Trapeze print the same transcript.
 */
#include <stdint.h>

#include "trapeze/multiboot.h"

#define COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts32(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

static void puthex(uint32_t v)
{
	char buf[11] = "0x";
	int i, n = 2;

	for (i = 28; i > 0 && !(v >> i); i -= 4)
		;
	for (; i >= 0; i -= 4)
		buf[n++] = "0123456789abcdef"[(v >> i) & 0xf];
	buf[n] = 0;
	puts32(buf);
}

static void putdec(uint32_t v)
{
	char buf[11];
	int n = 10;

	buf[n] = 0;
	do
		buf[--n] = (char)('0' + v % 10);
	while (v /= 10);
	puts32(buf + n);
}

static void line(const char *what, uint32_t v, int hex)
{
	puts32("mb32: ");
	puts32(what);
	puts32(" ");
	if (hex)
		puthex(v);
	else
		putdec(v);
	puts32("\n");
}

/* The command line after its first word (the loader puts the image's
 * own name there). */
static int strcmp32(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a - *b;
}

static const char *arguments(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

/* The memory map lists RAM at 1 MiB, at least as far as mem_upper says. */
static int mmap_has_upper(const struct mb_info *mbi)
{
	uint32_t p = mbi->mmap_addr, end = p + mbi->mmap_length;

	while (p < end) {
		const struct mb_mmap_entry *e = (const void *)p;

		if (e->type == MB_MMAP_AVAILABLE && e->addr <= 0x100000 &&
		    e->addr + e->len >= 0x100000 + (uint64_t)mbi->mem_upper * 1024)
			return 1;
		p += e->size + 4;
	}
	return 0;
}

/* Each module: its size, page alignment, and its first line. */
static void modules(const struct mb_info *mbi)
{
	const struct mb_module *m = (const void *)mbi->mods_addr;
	uint32_t i;

	line("modules", mbi->mods_count, 0);
	for (i = 0; i < mbi->mods_count; i++, m++) {
		const char *p = (const char *)m->mod_start;

		line("module bytes", m->mod_end - m->mod_start, 0);
		line("module page-aligned", !(m->mod_start & 0xfff), 0);
		puts32("mb32: module says \"");
		while (p < (const char *)m->mod_end && *p != '\n' &&
		       p < (const char *)m->mod_start + 60)
			outb(COM1, (uint8_t)*p++);
		puts32("\"\n");
	}
}

/* Page 0 is RAM like any other (a host process cannot map it: Trapeze
 * emulates each access there). */
static int page0_is_ram(void)
{
	uintptr_t a = 0x7f0;
	volatile uint32_t *p;

	__asm__("" : "+r"(a));     /* an address, not a bounds puzzle */
	p = (volatile uint32_t *)a;

	*p = 0x5a5aa5a5;
	p[1] = *p + 1;
	return p[1] == 0x5a5aa5a6;
}

/*
 * `syscall` from 32-bit code (legacy mode here: EIP from STAR, CS from
 * STAR[47:32], ECX the return address).  In a host process it would
 * enter the host's compat entry, which lets the call through Syscall
 * User Dispatch: with EAX = 4, EBX = 1, EBP = text, it would be the
 * host's write(1, text, 5).  Run when the command line says "syscall".
 */
extern const char mb32_after_syscall[];

static int syscall_reaches_star(void)
{
	static const char text[] = "HOST\n";
	uint32_t lo, hi, ecx;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	__asm__ volatile("wrmsr" : : "a"(lo | 1), "d"(hi), "c"(0xc0000080));
	__asm__ volatile("movl $1f, %%eax\n\t"       /* STAR: EIP, CS 0x08 */
			 "movl $0x08, %%edx\n\t"
			 "movl $0xc0000081, %%ecx\n\t"
			 "wrmsr\n\t"
			 "pushl %%ebp\n\t"
			 "movl $4, %%eax\n\t"
			 "movl $1, %%ebx\n\t"
			 "movl %%esi, %%ebp\n\t"
			 "movl $5, %%edx\n\t"
			 "syscall\n"
			 ".globl mb32_after_syscall\n"
			 "mb32_after_syscall:\n\t"
			 "ud2\n"
			 "1:\tpopl %%ebp"
			 : "=c"(ecx)
			 : "S"(text)
			 : "eax", "ebx", "edx", "memory");
	__asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0xc0000080));
	return ecx == (uint32_t)(uintptr_t)mb32_after_syscall;
}

void mb32_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t cr0, eflags;
	uint16_t cs;

	puts32("mb32: 32-bit protected mode\n");
	line("magic", magic, 1);
	if (magic != MB_BOOT_MAGIC)
		return;
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("pushfl; popl %0" : "=r"(eflags));
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	line("CR0.PE", cr0 & 1, 0);
	line("CR0.PG", cr0 >> 31, 0);
	line("EFLAGS.IF", (eflags >> 9) & 1, 0);
	line("CS.RPL", cs & 3, 0);
	line("flags: memory", mbi->flags & MB_INFO_MEMORY, 0);
	line("flags: command line", !!(mbi->flags & MB_INFO_CMDLINE), 0);
	line("flags: memory map", !!(mbi->flags & MB_INFO_MMAP), 0);
	/* Firmware may keep a little at the top (QEMU's does, 128 KiB). */
	line("upper memory (MiB, rounded up)", (mbi->mem_upper + 1023) / 1024,
	     0);
	line("memory map covers it", mmap_has_upper(mbi), 0);
	line("page 0 is RAM", page0_is_ram(), 0);
	puts32("mb32: arguments \"");
	puts32(arguments((const char *)mbi->cmdline));
	puts32("\"\n");
	if (mbi->flags & MB_INFO_MODS)
		modules(mbi);
	if (!strcmp32(arguments((const char *)mbi->cmdline), "syscall"))
		line("syscall lands at STAR's EIP, ECX after it",
		     syscall_reaches_star(), 0);
}

/* Called after CR0.PG, before the far jump: compatibility mode. */
void mb32_compat(void)
{
	uint32_t lo, hi, cr0;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	line("compatibility mode: CR0.PG", cr0 >> 31, 0);
	line("compatibility mode: EFER.LMA", (lo >> 10) & 1, 0);
}
