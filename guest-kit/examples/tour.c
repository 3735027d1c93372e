/*
 * tour: a walk through the privileged instructions of x86-64, executed
 * at virtual CPL 0.  Under Trapeze each one faults in the host and is
 * emulated against the virtual CPU; on bare hardware (or QEMU) they simply
 * run.  The output says what each step did and what the CPU answered,
 * in values that do not depend on where the code was linked.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define UNMAPPED 0x3f0000000000ull   /* beyond the identity map */

void user_program(void);
void syscall_entry(void);
uint64_t tour_syscall(uint64_t arg, uint64_t nr, uint64_t rip, uint64_t fl);

static volatile struct {
	uint64_t vector, error, cs, rip, cr2;
	unsigned skip;                 /* bytes to step over after a fault */
} seen;

static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

static void on_trap(struct trap_frame *f)
{
	seen.vector = f->vector;
	seen.error = f->error;
	seen.cs = f->cs;
	seen.rip = f->rip;
	if (f->vector == 14)
		seen.cr2 = read_cr2();
	f->rip += seen.skip;
}

/* A privileged instruction at CPL 3 ends the user program: return to the
 * kernel where enter_user() was called. */
static void on_user_gp(struct trap_frame *f)
{
	on_trap(f);
	if ((f->cs & 3) == 3)
		leave_user(f);
}

static void control_registers(void)
{
	uint64_t cr4 = read_cr4();

	printf("[cr] cr0 = 0x%llx, cr4 = 0x%llx, cr3 points at the boot "
	       "tables: %s\n", (unsigned long long)read_cr0(),
	       (unsigned long long)cr4, read_cr3() == 0x8000 ? "yes" : "no");
	write_cr4(cr4 | (1u << 7) | (1u << 9));     /* PGE, OSFXSR */
	printf("[cr] mov cr4: 0x%llx -> 0x%llx\n", (unsigned long long)cr4,
	       (unsigned long long)read_cr4());
	write_cr8(5);
	printf("[cr] mov cr8, 5: cr8 reads %llu\n",
	       (unsigned long long)read_cr8());
	write_cr0(read_cr0() | (1u << 3));          /* TS */
	__asm__ volatile("clts");
	printf("[cr] clts: CR0.TS = %llu\n",
	       (unsigned long long)((read_cr0() >> 3) & 1));
}

static void msrs(void)
{
	uint64_t efer = rdmsr(MSR_EFER);

	wrmsr(MSR_EFER, efer | EFER_SCE | EFER_NXE);
	printf("[msr] EFER 0x%llx -> 0x%llx (SCE and NXE set)\n",
	       (unsigned long long)efer, (unsigned long long)rdmsr(MSR_EFER));
	wrmsr(MSR_STAR, STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, 0x700);                   /* TF, IF, DF */
	printf("[msr] LSTAR reads back the syscall entry: %s\n",
	       rdmsr(MSR_LSTAR) == (uint64_t)syscall_entry ? "yes" : "no");
	wrmsr(MSR_KERNEL_GS_BASE, 0x1234000);
	__asm__ volatile("swapgs");
	printf("[msr] swapgs: GS base 0x%llx, kernel GS base 0x%llx\n",
	       (unsigned long long)rdmsr(MSR_GS_BASE),
	       (unsigned long long)rdmsr(MSR_KERNEL_GS_BASE));
	__asm__ volatile("swapgs");
}

static void tables(void)
{
	gdt_init();
	idt_init();
	for (unsigned v = 0; v < 32; v++)
		idt_set_handler(v, on_trap);
	idt_set_handler(13, on_user_gp);
	idt_set_dpl(3, 3);
	tss_set_rsp0((uint64_t)kernel_stack + sizeof(kernel_stack));
	printf("[gdt] lgdt, far return to cs 0x%x, ltr 0x%x; lidt with 256 "
	       "gates\n", KERNEL_CS, TSS_SEL);
}

static void expect(const char *what, unsigned vector)
{
	printf("[exc] %s -> vector %llu, error 0x%llx, from cs 0x%llx%s\n",
	       what, (unsigned long long)seen.vector,
	       (unsigned long long)seen.error, (unsigned long long)seen.cs,
	       seen.vector == vector ? "" : "  (UNEXPECTED)");
	seen.vector = ~0ull;
}

/* Execute one faulting instruction; the handler steps over it, by a
 * length the assembler measured. */
#define FAULTING(insn, ...)						\
	__asm__ volatile("movl $(2f - 1f), %[skip]\n1:\t" insn "\n2:"	\
			 : [skip] "=m"(seen.skip) : __VA_ARGS__)

static void exceptions(void)
{
	volatile int zero = 0;

	seen.skip = 0;
	__asm__ volatile("int3");
	expect("int3", 3);
	FAULTING("ud2", "i"(0));
	expect("ud2", 6);
	FAULTING("divl %[z]", "a"(1), "d"(0), [z] "r"(zero));
	expect("divide by zero", 0);
	FAULTING("movb (%[p]), %%cl", [p] "r"(UNMAPPED) : "rcx");
	printf("[exc] page fault address (cr2) 0x%llx\n",
	       (unsigned long long)seen.cr2);
	expect("read of an unmapped page", 14);
	FAULTING("movw %w[sel], %%ds", [sel] "r"(0x80));
	expect("mov ds with a selector past the GDT limit", 13);
	seen.skip = 0;
}

static void ports(void)
{
	static const char msg[] = "[io] rep outsb writes this line\n";

	outb(TRAPEZE_PORT_COM1 + 7, 0x5a);
	printf("[io] UART scratch register: wrote 0x5a, read 0x%x\n",
	       inb(TRAPEZE_PORT_COM1 + 7));
	printf("[io] unclaimed port 0x7000: inb 0x%x inw 0x%x inl 0x%x\n",
	       inb(0x7000), inw(0x7000), inl(0x7000));
	__asm__ volatile("rep outsb"
			 : : "S"(msg), "c"(sizeof(msg) - 1),
			   "d"(TRAPEZE_PORT_COM1) : "memory");
}

static void misc(void)
{
	cli();
	sti();
	cli();
	invlpg((void *)0x100000);
	__asm__ volatile("wbinvd");
	printf("[misc] cli, sti, invlpg, wbinvd done\n");
}

/* Make the boot identity map reachable from CPL 3: every present entry
 * gets the U bit.  Each store hits a page table and is emulated. */
static unsigned open_to_user(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xfffull);
	unsigned writes = 0, i, j, k, l;

	for (i = 0; i < 512; i++) {
		uint64_t *pdpt;

		if (!(pml4[i] & 1))
			continue;
		pml4[i] |= 4, writes++;
		pdpt = (uint64_t *)(pml4[i] & 0xffffffffff000ull);
		for (j = 0; j < 512; j++) {
			uint64_t *pd;

			if (!(pdpt[j] & 1))
				continue;
			pdpt[j] |= 4, writes++;
			pd = (uint64_t *)(pdpt[j] & 0xffffffffff000ull);
			for (k = 0; k < 512; k++) {
				uint64_t *pt;

				if (!(pd[k] & 1))
					continue;
				pd[k] |= 4, writes++;
				if (pd[k] & 0x80)
					continue;
				pt = (uint64_t *)(pd[k] & 0xffffffffff000ull);
				for (l = 0; l < 512; l++)
					if (pt[l] & 1)
						pt[l] |= 4, writes++;
			}
		}
	}
	write_cr3(read_cr3());
	return writes;
}

uint64_t tour_syscall(uint64_t arg, uint64_t nr, uint64_t rip, uint64_t fl)
{
	if (nr == 1)
		printf("[user] syscall 1: \"%s\"\n", (const char *)arg);
	else
		printf("[user] syscall %llu(%llu); return rip is in the user "
		       "program: %s; user rflags 0x%llx\n",
		       (unsigned long long)nr, (unsigned long long)arg,
		       rip > (uint64_t)user_program &&
		       rip < (uint64_t)user_program + 64 ? "yes" : "no",
		       (unsigned long long)fl);
	return 0;
}

static void user_mode(void)
{
	printf("[user] %u page-table entries given the U bit\n",
	       open_to_user());
	enter_user((uint64_t)user_program,
		   (uint64_t)user_stack + sizeof(user_stack));
	expect("cli at CPL 3", 13);
	/* At CPL 3 this would fault: it runs, so we are the kernel again. */
	printf("[user] back in the kernel: cr0 reads 0x%llx again\n",
	       (unsigned long long)read_cr0());
}

int guest_main(const struct trapeze_boot_info *bi)
{
	printf("tour: privileged instructions at virtual CPL 0\n");
	control_registers();
	msrs();
	tables();
	exceptions();
	ports();
	misc();
	user_mode();
	printf("tour: done\n");
	return 0;
}
