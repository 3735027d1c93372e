/*
 * popek-goldberg: the sensitive but unprivileged instructions of x86, run
 * at virtual CPL 0.  Popek and Goldberg's theorem says a machine is
 * virtualizable by trap-and-emulate if every sensitive instruction is
 * privileged (traps outside the most privileged mode).  Robin and Irvine
 * (USENIX Security 2000) listed the IA-32 instructions that break it.
 *
 * For each one this guest builds a state in which real CPL-0 hardware and
 * the same instruction run at CPL 3 give different answers, runs it, and
 * prints one line:  PG <row> <what it saw>.  `trapeze demo popek-goldberg`
 * runs it three ways (pure trap-and-emulate, with the scanner, and under
 * QEMU as the CPL-0 reference) and puts the lines side by side.
 *
 * In 64-bit mode PUSH CS/SS/DS/ES, POP SS/DS/ES and the direct far CALL
 * and JMP (ptr16:32) are invalid opcodes: AMD64 dropped them along with
 * most of segmentation.  The POP, PUSH, CALL and JMP rows use FS and the
 * indirect far forms (m16:64), which remain.
 */
#include "trapeze/guest.h"

uint64_t pg_far_call(void);
uint64_t pg_far_jmp(void);
void pg_far_ret(void);
void pg_recover(void);
extern uint64_t pg_saved_rsp;

/* Our GDT.  Slots 5 and 6 are the ones Linux lets CPL 3 use (0x2b user
 * data, 0x33 user code): we put our own, different, descriptors there. */
static uint64_t gdt[12] __attribute__((aligned(16)));
static uint64_t ldt[2] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static struct __attribute__((packed)) {
	uint16_t off0, sel;
	uint8_t ist, attr;
	uint16_t off1;
	uint32_t off2, zero;
} idt[256] __attribute__((aligned(16)));

extern const uint64_t isr_stub_table[256];
static volatile uint64_t trap_cs, trap_rflags, trap_vector, trap_error;

#define DATA_LIMIT 0xabcde
#define FS_BASE    0x12345000ull

static uint64_t system_desc_lo(uint64_t base, uint32_t limit, uint8_t type)
{
	return (limit & 0xffff) | ((base & 0xffffff) << 16) |
	       ((uint64_t)(0x80 | type) << 40) | ((base >> 24 & 0xff) << 56);
}

static void tables(void)
{
	struct dtr g = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct dtr i = { sizeof(idt) - 1, (uint64_t)idt };
	unsigned v;

	gdt[1] = 0x00af9b000000ffffull;             /* 0x08 code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull;             /* 0x10 data, DPL 0 */
	/* 0x18: data, DPL 0, byte-granular limit 0xabcde */
	gdt[3] = (DATA_LIMIT & 0xffff) | (0x93ull << 40) |
		 ((uint64_t)((DATA_LIMIT >> 16) | 0x40) << 48);
	/* 0x28: data, DPL 0, base FS_BASE (where Linux has user data) */
	gdt[5] = 0xffff | ((FS_BASE & 0xffffff) << 16) | (0x93ull << 40) |
		 (0xcfull << 48) | ((FS_BASE >> 24 & 0xff) << 56);
	/* 0x30: 64-bit code, DPL 0 (where Linux has 64-bit user code) */
	gdt[6] = 0x00af9b000000ffffull;
	gdt[7] = system_desc_lo((uint64_t)ldt, sizeof(ldt) - 1, 0x2);
	gdt[8] = (uint64_t)ldt >> 32;               /* 0x38: the LDT */
	gdt[10] = system_desc_lo((uint64_t)tss, sizeof(tss) - 1, 0x9);
	gdt[11] = (uint64_t)tss >> 32;              /* 0x50: the TSS */
	lgdt(&g);
	__asm__ volatile("lldt %w0" : : "r"(0x38));
	ltr(0x50);
	for (v = 0; v < 256; v++) {
		uint64_t off = isr_stub_table[v];

		idt[v].off0 = (uint16_t)off;
		idt[v].sel = 0x08;
		idt[v].attr = 0x8e;
		idt[v].off1 = (uint16_t)(off >> 16);
		idt[v].off2 = (uint32_t)(off >> 32);
	}
	lidt(&i);
}

/* The guest-kit interrupt stubs call this with their frame. */
struct frame {
	uint64_t r[15], vector, error, rip, cs, rflags, rsp, ss;
};
void isr_dispatch(struct frame *f);
void isr_dispatch(struct frame *f)
{
	trap_vector = f->vector;
	trap_error = f->error;
	trap_cs = f->cs;
	trap_rflags = f->rflags;
	if (f->vector == 13) {
		/* Only the far return row expects a #GP: carry on there. */
		f->rip = (uint64_t)pg_recover;
		f->rsp = pg_saved_rsp;
	}
}

static void row(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void row(const char *name, const char *fmt, ...)
{
	char buf[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("PG %s %s\n", name, buf);
}

static void descriptor_tables(void)
{
	struct dtr d;

	__asm__ volatile("sgdt %0" : "=m"(d));
	row("sgdt", "0x%llx/0x%x", (unsigned long long)d.base, d.limit);
	__asm__ volatile("sidt %0" : "=m"(d));
	row("sidt", "0x%llx/0x%x", (unsigned long long)d.base, d.limit);
}

static void selectors_of_tables(void)
{
	uint64_t v = 0;

	__asm__ volatile("sldt %%ax" : "+a"(v));
	row("sldt", "0x%llx", (unsigned long long)(v & 0xffff));
	v = 0;
	__asm__ volatile("str %%ax" : "+a"(v));
	row("str", "0x%llx", (unsigned long long)(v & 0xffff));
}

static void machine_status(void)
{
	uint64_t v = 0;

	__asm__ volatile("smsw %%ax" : "+a"(v));
	row("smsw", "0x%04llx", (unsigned long long)(v & 0xffff));
}

static void flags(void)
{
	uint64_t f;

	cli();
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	row("pushf", "IF=%llu", (unsigned long long)((f >> 9) & 1));
	/* Try to turn interrupts on with popf; look with an int3, whose
	 * frame carries the flags the CPU believes in. */
	__asm__ volatile("pushq $0x202; popfq; int3" ::: "memory", "cc");
	row("popf", "IF=%llu", (unsigned long long)((trap_rflags >> 9) & 1));
	cli();
}

static void segment_queries(void)
{
	uint64_t ar = 0, limit = 0;
	uint8_t ok;

	__asm__ volatile("larq %2, %0; setz %1" : "+r"(ar), "=q"(ok)
			 : "r"(0x18ull) : "cc");
	row("lar", ok ? "ZF=1 ar=0x%llx" : "ZF=0", (unsigned long long)ar);
	__asm__ volatile("lslq %2, %0; setz %1" : "+r"(limit), "=q"(ok)
			 : "r"(0x18ull) : "cc");
	row("lsl", ok ? "ZF=1 limit=0x%llx" : "ZF=0",
	    (unsigned long long)limit);
	__asm__ volatile("verr %w1; setz %0" : "=q"(ok) : "r"(0x18) : "cc");
	row("verr", "ZF=%u", ok);
	__asm__ volatile("verw %w1; setz %0" : "=q"(ok) : "r"(0x18) : "cc");
	row("verw", "ZF=%u", ok);
}

static void segment_registers(void)
{
	uint64_t v;

	/* pop fs: the descriptor loaded decides FS.base. */
	__asm__ volatile("pushq $0x28; popq %%fs" ::: "memory");
	row("pop", "fs.base=0x%llx", (unsigned long long)rdmsr(MSR_FS_BASE));
	/* push fs: the selector the CPU holds. */
	__asm__ volatile("movw %w0, %%fs" : : "r"(0x18));
	__asm__ volatile("pushq %%fs; popq %0" : "=r"(v));
	row("push", "0x%llx", (unsigned long long)(v & 0xffff));
	__asm__ volatile("movw %w0, %%fs" : : "r"(0));
	/* mov from cs: the privilege level in the low bits. */
	__asm__ volatile("movq %%cs, %0" : "=r"(v));
	row("mov", "cs=0x%llx", (unsigned long long)(v & 0xffff));
}

static void far_transfers(void)
{
	pg_far_call();
	row("call", "cs=0x%llx", (unsigned long long)trap_cs);
	pg_far_jmp();
	row("jmp", "cs=0x%llx", (unsigned long long)trap_cs);
	__asm__ volatile("int $0x40" ::: "memory");
	row("int", "vector 0x%llx cs=0x%llx",
	    (unsigned long long)trap_vector, (unsigned long long)trap_cs);
	trap_vector = 0;
	pg_far_ret();
	if (trap_vector == 13)
		row("ret", "#GP(0x%llx)", (unsigned long long)trap_error);
	else
		row("ret", "cs=0x%llx", (unsigned long long)trap_cs);
}

static void identification(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	/* OSXSAVE mirrors CR4.OSXSAVE of whoever runs the CPU. */
	row("cpuid", "OSXSAVE=%u", (c >> 27) & 1);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	tables();
	descriptor_tables();
	selectors_of_tables();
	machine_status();
	flags();
	segment_queries();
	segment_registers();
	far_transfers();
	identification();
	printf("PG done\n");
	return 0;
}
