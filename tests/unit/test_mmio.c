/*
 * Device memory through the trap path: a guest mapping of the APIC pages
 * (its own page tables, as a kernel makes them), a host fault there, the
 * instruction decoded and emulated against the device, no host mapping
 * ever made; an address where nothing answers gives the guest a #PF.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/lapic.h"
#include "harness.h"
#include "trapeze/abi.h"

#define RUN(vm, bytes) harness_run(vm, bytes, sizeof(bytes) - 1)

static struct vm *vm;

static void setup(void)
{
	vm = harness_vm();
	harness_map_devices(vm);
}

static void at(uint64_t rip)
{
	vm->cpu.rip = rip;
}

START_TEST(test_mov_store_reaches_the_tpr)
{
	vm->cpu.gpr[RBX] = 0xfee00080;
	vm->cpu.gpr[RAX] = 0x42;
	ck_assert_int_eq(RUN(vm, "\x89\x03"), EMU_NEXT);   /* mov %eax,(%rbx) */
	ck_assert_uint_eq(lapic_cr8(vm->pc.lapic), 4);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
}
END_TEST

START_TEST(test_mov_load_and_imm_store)
{
	vm->cpu.gpr[RBX] = 0xfee00030;
	ck_assert_int_eq(RUN(vm, "\x8b\x0b"), EMU_NEXT);   /* mov (%rbx),%ecx */
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 0x50014);
	at(CODE_GPA);
	vm->cpu.gpr[RBX] = 0xfee00080;
	/* movl $0x30,(%rbx); lock orl $0x50,(%rbx) */
	ck_assert_int_eq(RUN(vm, "\xc7\x03\x30\x00\x00\x00"), EMU_NEXT);
	at(CODE_GPA);
	ck_assert_int_eq(RUN(vm, "\xf0\x83\x0b\x50"), EMU_NEXT);
	ck_assert_uint_eq(lapic_cr8(vm->pc.lapic), 7);
}
END_TEST

START_TEST(test_rep_stos_into_iomem)
{
	uint64_t got = 0;

	vm->cpu.gpr[RDI] = 0xff000000;
	vm->cpu.gpr[RCX] = 3;
	vm->cpu.gpr[RAX] = 0x1122334455667788ull;
	ck_assert_int_eq(RUN(vm, "\xf3\x48\xab"), EMU_NEXT);  /* rep stosq */
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 0);
	ck_assert_uint_eq(vm->cpu.gpr[RDI], 0xff000018);
	at(CODE_GPA);
	vm->cpu.gpr[RBX] = 0xff000010;
	ck_assert_int_eq(RUN(vm, "\x48\x8b\x0b"), EMU_NEXT);
	got = vm->cpu.gpr[RCX];
	ck_assert_uint_eq(got, 0x1122334455667788ull);
}
END_TEST

START_TEST(test_not_neg_xadd_test_on_device_memory)
{
	vm->cpu.gpr[RBX] = 0xff000000;
	vm->cpu.gpr[RAX] = 5;
	ck_assert_int_eq(RUN(vm, "\x89\x03"), EMU_NEXT);      /* = 5 */
	at(CODE_GPA);
	ck_assert_int_eq(RUN(vm, "\xf7\x1b"), EMU_NEXT);      /* neg: -5 */
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
	at(CODE_GPA);
	ck_assert_int_eq(RUN(vm, "\xf7\x13"), EMU_NEXT);      /* not: 4 */
	at(CODE_GPA);
	vm->cpu.gpr[RCX] = 3;
	ck_assert_int_eq(RUN(vm, "\xf0\x0f\xc1\x0b"), EMU_NEXT); /* xadd */
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 4);
	at(CODE_GPA);
	ck_assert_int_eq(RUN(vm, "\xf7\x03\x07\x00\x00\x00"), EMU_NEXT);
	ck_assert(!(vm->cpu.rflags & RFLAGS_ZF));               /* 7 & 7 */
	at(CODE_GPA);
	ck_assert_int_eq(RUN(vm, "\x8b\x13"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RDX], 7);
}
END_TEST

START_TEST(test_unclaimed_address_is_a_guest_page_fault)
{
	vm->cpu.gpr[RBX] = 0xfed00000;
	ck_assert_int_eq(RUN(vm, "\x8b\x0b"), EMU_FAULT);
	ck_assert(vm->cpu.exc.pending);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_PF);
	ck_assert_uint_eq(vm->cpu.exc.err, PFERR_P | PFERR_RSVD);
	ck_assert_uint_eq(vm->cpu.cr2, 0xfed00000);
}
END_TEST

START_TEST(test_host_fault_on_the_apic_page_is_emulated_not_mapped)
{
	struct host_trap t = { .kind = HT_PAGE_FAULT, .vector = 14,
				.err = PFERR_W, .addr = 0xfee00080 };
	static const char code[] = "\x89\x03";
	unsigned maps;

	harness_poke(vm, CODE_GPA, code, 2);
	vm->cpu.gpr[RBX] = 0xfee00080;
	vm->cpu.gpr[RAX] = 0x20;
	maps = host_calls.maps;
	vm_trap(vm, &t);
	ck_assert_uint_eq(lapic_cr8(vm->pc.lapic), 2);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
	ck_assert(!vm->cpu.exc.pending);
	ck_assert_uint_eq(host_calls.maps, maps);
}
END_TEST

START_TEST(test_x2apic_msrs_through_wrmsr)
{
	/* wrmsr to IA32_APIC_BASE (x2APIC on), then rdmsr 0x803. */
	vm->cpu.gpr[RCX] = 0x1b;
	vm->cpu.gpr[RAX] = 0xfee00c00;
	vm->cpu.gpr[RDX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_NEXT);
	at(CODE_GPA);
	vm->cpu.gpr[RCX] = 0x803;
	ck_assert_int_eq(RUN(vm, "\x0f\x32"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x50014);
	at(CODE_GPA);
	vm->cpu.gpr[RCX] = 0x1b;
	vm->cpu.gpr[RAX] = 0xfee00800;                   /* x2 -> xAPIC */
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_FAULT);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_GP);
}
END_TEST

START_TEST(test_cpuid_advertises_the_apic)
{
	uint32_t r[4];

	vcpu_cpuid(&vm->cpu, 1, 0, r);
	ck_assert_uint_eq(r[3] >> 9 & 1, 1);            /* APIC */
	ck_assert_uint_eq(r[2] >> 21 & 1, 1);           /* x2APIC */
	ck_assert_uint_eq(r[2] >> 24 & 1, 1);           /* TSC deadline */
	ck_assert(lapic_set_base(vm->pc.lapic, 0xfee00000, 48));
	vcpu_cpuid(&vm->cpu, 1, 0, r);
	ck_assert_uint_eq(r[3] >> 9 & 1, 0);
}
END_TEST

static Suite *mmio_suite(void)
{
	Suite *s = suite_create("mmio");
	TCase *t = tcase_create("mmio");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_mov_store_reaches_the_tpr);
	tcase_add_test(t, test_mov_load_and_imm_store);
	tcase_add_test(t, test_rep_stos_into_iomem);
	tcase_add_test(t, test_not_neg_xadd_test_on_device_memory);
	tcase_add_test(t, test_unclaimed_address_is_a_guest_page_fault);
	tcase_add_test(t, test_host_fault_on_the_apic_page_is_emulated_not_mapped);
	tcase_add_test(t, test_x2apic_msrs_through_wrmsr);
	tcase_add_test(t, test_cpuid_advertises_the_apic);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(mmio_suite)
