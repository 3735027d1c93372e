/*
 * hostile: a guest that misbehaves on purpose, one way per run, chosen by
 * its command line.  None of it may crash the monitor or reach the host:
 * each must end in a guest-visible fault (and, with no handler, the
 * monitor's crash report) or in an error code.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

typedef void (*fn)(void);

static void wild_jump(void)
{
	((fn)0x7ff000000000ull)();   /* outside the window */
}

static void noncanonical_jump(void)
{
	((fn)0x0000800000000000ull)();
}

static void null_write(void)
{
	__asm__ volatile("movq $1, 8" ::: "memory");
}

static void bad_cr3(void)
{
	write_cr3(0x3000000000ull);  /* far past guest RAM */
	printf("still running after mov cr3\n");
}

static void bad_gdt(void)
{
	struct dtr d = { 0xffff, 0x123456789000ull };

	lgdt(&d);
	__asm__ volatile("movw $0x10, %%ax\n\tmovw %%ax, %%ds" ::: "rax");
}

static void stack_overflow(void)
{
	__asm__ volatile("movq $0x3f0000000000, %rsp\n\tpushq $1");
}

static void no_idt_int3(void)
{
	__asm__ volatile("int3");
}

static void spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

/* A page-table entry naming memory that does not exist, read with a
 * handler installed: the guest sees the fault and reports it. */
static volatile uint64_t pf_err, pf_addr;

static void on_pf(struct trap_frame *f)
{
	pf_err = f->error;
	pf_addr = read_cr2();
	f->rip += 3;    /* mov (%rax), %rcx: 48 8b 08 */
}

static void pte_outside_ram(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffull);
	static uint64_t pdpt[512] __attribute__((aligned(4096)));

	gdt_init();
	idt_init();
	idt_set_handler(14, on_pf);
	pdpt[0] = 0x4000000000ull | 0x83;   /* 1 GiB page at 256 GiB */
	pml4[1] = (uint64_t)pdpt | 3;       /* GVA 512 GiB */
	__asm__ volatile("movq (%%rax), %%rcx"
			 : : "a"(0x8000000000ull) : "rcx", "memory");
	printf("read through a PTE outside RAM: #PF at 0x%llx, error 0x%llx\n",
	       (unsigned long long)pf_addr, (unsigned long long)pf_err);
}

static struct trapeze_mmu_update reqs[2];
static volatile uint64_t target;

static void bad_hypercalls(void)
{
	long r;

	printf("console_write(unmapped) = %ld\n",
	       hypercall2(TRAPEZE_HC_CONSOLE_WRITE, 0x3f0000000000l, 16));
	printf("console_write(huge) = %ld\n",
	       hypercall2(TRAPEZE_HC_CONSOLE_WRITE, 0x100000, 1l << 40));
	printf("hypercall 12345 = %ld\n", hypercall2(12345, 0, 0));
	printf("hypercall -1 = %ld\n", hypercall2(-1, 0, 0));
	printf("set_timer(vector 5) = %ld\n",
	       hypercall2(TRAPEZE_HC_SET_TIMER, 1000000, 5));
	printf("set_timer(1 us) = %ld\n",
	       hypercall2(TRAPEZE_HC_SET_TIMER, 1000, 0x40));
	printf("mmu_update(2000 requests) = %ld\n",
	       hypercall2(TRAPEZE_HC_MMU_UPDATE, (long)reqs, 2000));
	printf("mmu_update(unmapped requests) = %ld\n",
	       hypercall2(TRAPEZE_HC_MMU_UPDATE, 0x3f0000000000l, 2));
	/* A good store then a bad one: all or nothing, so the good one must
	 * not happen. */
	target = 0x1111;
	reqs[0] = (struct trapeze_mmu_update){ (uint64_t)(uintptr_t)&target,
					       0x2222 };
	reqs[1] = (struct trapeze_mmu_update){ 1ull << 45, 0 };
	r = hypercall2(TRAPEZE_HC_MMU_UPDATE, (long)reqs, 2);
	printf("mmu_update(outside RAM) = %ld, target 0x%lx\n", r,
	       (unsigned long)target);
	reqs[1] = (struct trapeze_mmu_update){
		(uint64_t)(uintptr_t)&target + 1, 0 };
	r = hypercall2(TRAPEZE_HC_MMU_UPDATE, (long)reqs, 2);
	printf("mmu_update(misaligned) = %ld, target 0x%lx\n", r,
	       (unsigned long)target);
	r = hypercall2(TRAPEZE_HC_MMU_UPDATE, (long)reqs, 1);
	printf("mmu_update(good) = %ld, target 0x%lx\n", r,
	       (unsigned long)target);
}

static const struct {
	const char *name;
	fn run;
} acts[] = {
	{ "wild-jump", wild_jump },
	{ "noncanonical-jump", noncanonical_jump },
	{ "null-write", null_write },
	{ "bad-cr3", bad_cr3 },
	{ "bad-gdt", bad_gdt },
	{ "stack-overflow", stack_overflow },
	{ "int3", no_idt_int3 },
	{ "spin", spin },
	{ "pte-outside-ram", pte_outside_ram },
	{ "bad-hypercalls", bad_hypercalls },
};

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	unsigned i;

	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(cmd, acts[i].name)) {
			acts[i].run();
			return 0;
		}
	printf("hostile: unknown act '%s'\n", cmd);
	return 3;
}
