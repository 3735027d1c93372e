/*
 * The instruction emulator: each test puts instruction bytes at RIP,
 * prepares the vCPU, emulates one instruction and checks what the
 * hardware would have done at that privilege level.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "harness.h"
#include "trapeze/abi.h"
#include "trapeze/multiboot.h"
#include "core/multiboot.h"

#define RUN(vm, bytes) harness_run(vm, bytes, sizeof(bytes) - 1)

static struct vm *vm;

static void setup(void)
{
	vm = harness_vm();
}

static void assert_gp(uint32_t err)
{
	ck_assert(vm->cpu.exc.pending);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_GP);
	ck_assert_uint_eq(vm->cpu.exc.err, err);
}

static void assert_ud(void)
{
	ck_assert(vm->cpu.exc.pending);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_UD);
}

/* ---- interrupt flag ---- */

START_TEST(test_cli_at_cpl0_clears_virtual_if)
{
	vm->cpu.rflags |= RFLAGS_IF;
	ck_assert_int_eq(RUN(vm, "\xfa"), EMU_NEXT);
	ck_assert(!(vm->cpu.rflags & RFLAGS_IF));
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 1);
}
END_TEST

START_TEST(test_sti_sets_virtual_if_and_interrupt_shadow)
{
	ck_assert_int_eq(RUN(vm, "\xfb"), EMU_NEXT);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
	ck_assert(vm->cpu.irq_shadow);
}
END_TEST

START_TEST(test_cli_at_cpl3_without_iopl_raises_gp)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	ck_assert_int_eq(RUN(vm, "\xfa"), EMU_FAULT);
	assert_gp(0);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

START_TEST(test_cli_at_cpl3_with_iopl3_clears_if)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.rflags |= RFLAGS_IOPL;
	ck_assert_int_eq(RUN(vm, "\xfa"), EMU_NEXT);
	ck_assert(!(vm->cpu.rflags & RFLAGS_IF));
}
END_TEST

/* kvm-unit-tests' smap test clears AC before it sets CR4.SMAP: only
 * CPUID's SMAP bit decides whether stac and clac exist. */
START_TEST(test_stac_and_clac_work_before_cr4_smap_is_set)
{
	vm->cpu.cr4_valid |= CR4_SMAP;
	vm->cpu.cr4 &= ~CR4_SMAP;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xcb"), EMU_NEXT);   /* stac */
	ck_assert(vm->cpu.rflags & RFLAGS_AC);
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xca"), EMU_NEXT);   /* clac */
	ck_assert(!(vm->cpu.rflags & RFLAGS_AC));
}
END_TEST

START_TEST(test_stac_without_smap_in_cpuid_raises_ud)
{
	vm->cpu.cr4_valid &= ~CR4_SMAP;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xcb"), EMU_FAULT);
	assert_ud();
	ck_assert(!(vm->cpu.rflags & RFLAGS_AC));
}
END_TEST

START_TEST(test_pushf_pushes_the_virtual_if)
{
	vm->cpu.rflags = RFLAGS_FIXED | RFLAGS_ZF;   /* IF clear */
	ck_assert_int_eq(RUN(vm, "\x9c"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 8);
	ck_assert_uint_eq(harness_peek64(vm, STACK_TOP - 8),
			  RFLAGS_FIXED | RFLAGS_ZF);
}
END_TEST

START_TEST(test_popf_at_cpl0_loads_if_and_iopl)
{
	uint64_t img = RFLAGS_FIXED | RFLAGS_IF | RFLAGS_IOPL | RFLAGS_CF;

	vm->cpu.gpr[RSP] -= 8;
	harness_poke(vm, vm->cpu.gpr[RSP], &img, 8);
	ck_assert_int_eq(RUN(vm, "\x9d"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.rflags, img);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP);
}
END_TEST

START_TEST(test_popf_at_cpl3_keeps_if_and_iopl)
{
	uint64_t img = RFLAGS_FIXED | RFLAGS_IOPL | RFLAGS_CF;  /* IF clear */

	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.gpr[RSP] = STACK_TOP - 8;
	harness_poke(vm, STACK_TOP - 8, &img, 8);
	ck_assert_int_eq(RUN(vm, "\x9d"), EMU_NEXT);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);          /* silently kept */
	ck_assert_uint_eq(vm->cpu.rflags & RFLAGS_IOPL, 0);
	ck_assert(vm->cpu.rflags & RFLAGS_CF);          /* CF did change */
}
END_TEST

START_TEST(test_hlt_at_cpl0_halts_after_the_instruction)
{
	ck_assert_int_eq(RUN(vm, "\xf4"), EMU_HALT);
	ck_assert(vm->cpu.halted);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 1);
}
END_TEST

START_TEST(test_hlt_at_cpl3_raises_gp)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	ck_assert_int_eq(RUN(vm, "\xf4"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

/* ---- port I/O ---- */

START_TEST(test_out_imm8_and_in_dx_reach_the_uart_scratch_register)
{
	vm->cpu.gpr[RAX] = 0x5a;
	vm->cpu.gpr[RDX] = TRAPEZE_PORT_COM1 + 7;
	ck_assert_int_eq(RUN(vm, "\xee"), EMU_NEXT);       /* out dx, al */
	vm->cpu.gpr[RAX] = 0xffffffffffff0000ull;
	ck_assert_int_eq(RUN(vm, "\xec"), EMU_NEXT);       /* in al, dx */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xffffffffffff005aull);
}
END_TEST

START_TEST(test_out_imm8_al_writes_the_console)
{
	vm->cpu.gpr[RAX] = 'H';
	ck_assert_int_eq(RUN(vm, "\xe6\xf8"), EMU_NEXT);   /* out 0xf8, al */
	ck_assert_str_eq(harness_console(vm), "");        /* port 0xf8 */
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RDX] = TRAPEZE_PORT_COM1;
	ck_assert_int_eq(RUN(vm, "\xee"), EMU_NEXT);
	ck_assert_str_eq(harness_console(vm), "H");
}
END_TEST

START_TEST(test_in_from_unclaimed_port_reads_all_ones)
{
	vm->cpu.gpr[RAX] = 0x1122334455667788ull;
	vm->cpu.gpr[RDX] = 0x7000;
	ck_assert_int_eq(RUN(vm, "\xed"), EMU_NEXT);       /* in eax, dx */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xffffffffull);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 0x1122334455667788ull;
	ck_assert_int_eq(RUN(vm, "\x66\xed"), EMU_NEXT);   /* in ax, dx */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x112233445566ffffull);
}
END_TEST

START_TEST(test_in_at_cpl3_without_iopl_raises_gp)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.gpr[RDX] = 0x80;
	ck_assert_int_eq(RUN(vm, "\xec"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_io_bitmap_opens_a_port_at_cpl3)
{
	uint16_t iomap = 0x68;
	uint8_t bits[0x20];

	harness_gdt(vm);
	/* Widen the TSS so it holds a bitmap for ports 0-255. */
	vm->cpu.tr.limit = 0x68 + sizeof(bits);
	harness_poke(vm, TSS_GPA + 0x66, &iomap, 2);
	memset(bits, 0xff, sizeof(bits));
	bits[0x80 / 8] &= ~1u;                             /* port 0x80 */
	harness_poke(vm, TSS_GPA + iomap, bits, sizeof(bits));
	harness_user_mode(vm);
	vm->cpu.gpr[RDX] = 0x80;
	ck_assert_int_eq(RUN(vm, "\xec"), EMU_NEXT);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RDX] = 0x81;
	ck_assert_int_eq(RUN(vm, "\xec"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_rep_outsb_writes_the_string_and_advances)
{
	static const char msg[] = "rep outsb";

	harness_poke(vm, DATA_GPA, msg, 9);
	vm->cpu.gpr[RSI] = DATA_GPA;
	vm->cpu.gpr[RCX] = 9;
	vm->cpu.gpr[RDX] = TRAPEZE_PORT_COM1;
	ck_assert_int_eq(RUN(vm, "\xf3\x6e"), EMU_NEXT);
	ck_assert_str_eq(harness_console(vm), "rep outsb");
	ck_assert_uint_eq(vm->cpu.gpr[RSI], DATA_GPA + 9);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 0);
}
END_TEST

START_TEST(test_rep_insw_stores_downwards_with_df)
{
	vm->cpu.gpr[RDI] = DATA_GPA + 16;
	vm->cpu.gpr[RCX] = 3;
	vm->cpu.gpr[RDX] = 0x7000;
	vm->cpu.rflags |= RFLAGS_DF;
	ck_assert_int_eq(RUN(vm, "\x66\xf3\x6d"), EMU_NEXT); /* rep insw */
	ck_assert_uint_eq(vm->cpu.gpr[RDI], DATA_GPA + 10);
	ck_assert_uint_eq(harness_peek64(vm, DATA_GPA + 12) & 0xffffffff,
			  0xffffffff);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 0);
}
END_TEST

/* The guest's memory at those addresses differs at the fifth byte:
 * repe cmpsb stops after it, with the flags of 'e' - 'x'. */
START_TEST(test_repe_cmpsb_stops_after_the_first_difference)
{
	harness_poke(vm, DATA_GPA, "abcdef", 6);
	harness_poke(vm, DATA_GPA + 64, "abcdxf", 6);
	vm->cpu.gpr[RSI] = DATA_GPA;
	vm->cpu.gpr[RDI] = DATA_GPA + 64;
	vm->cpu.gpr[RCX] = 6;
	ck_assert_int_eq(RUN(vm, "\xf3\xa6"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 1);
	ck_assert_uint_eq(vm->cpu.gpr[RSI], DATA_GPA + 5);
	ck_assert_uint_eq(vm->cpu.gpr[RDI], DATA_GPA + 64 + 5);
	ck_assert(!(vm->cpu.rflags & RFLAGS_ZF));
	ck_assert(vm->cpu.rflags & RFLAGS_CF);        /* 'e' < 'x' */
}
END_TEST

START_TEST(test_repne_scasb_finds_the_byte)
{
	harness_poke(vm, DATA_GPA, "hello", 6);
	vm->cpu.gpr[RAX] = 0;                         /* the terminator */
	vm->cpu.gpr[RDI] = DATA_GPA;
	vm->cpu.gpr[RCX] = ~0ull;
	ck_assert_int_eq(RUN(vm, "\xf2\xae"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RDI], DATA_GPA + 6);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], ~0ull - 6);
	ck_assert(vm->cpu.rflags & RFLAGS_ZF);
}
END_TEST

START_TEST(test_lodsw_loads_the_low_word_only)
{
	harness_poke(vm, DATA_GPA, "\x34\x12", 2);
	vm->cpu.gpr[RAX] = 0xffffffffffff0000ull;
	vm->cpu.gpr[RSI] = DATA_GPA;
	ck_assert_int_eq(RUN(vm, "\x66\xad"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xffffffffffff1234ull);
	ck_assert_uint_eq(vm->cpu.gpr[RSI], DATA_GPA + 2);
}
END_TEST

/* With DR7.GD set, the next mov to or from a debug register faults
 * with #DB instead, DR6.BD set and GD cleared so the handler may. */
START_TEST(test_general_detect_faults_the_next_debug_register_access)
{
	vm->cpu.dr[7] = 0x400 | DR7_GD;
	vm->cpu.dr[6] = 0xffff0ff0;
	vm->cpu.gpr[RAX] = 0x1234;
	ck_assert_int_eq(RUN(vm, "\x0f\x23\xc0"), EMU_FAULT); /* mov %rax,%dr0 */
	ck_assert(vm->cpu.exc.pending);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_DB);
	ck_assert_uint_eq(vm->cpu.dr[6], 0xffff0ff0 | DR6_BD);
	ck_assert_uint_eq(vm->cpu.dr[7], 0x400);
	ck_assert_uint_eq(vm->cpu.dr[0], 0);
	vm->cpu.exc.pending = false;
	ck_assert_int_eq(RUN(vm, "\x0f\x23\xc0"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.dr[0], 0x1234);
}
END_TEST

/* invpcid (%rbx),%rax: the descriptor's PCID in bits 0-11, the address
 * in its second quadword; #GP for a bad type, reserved bits, a PCID
 * without CR4.PCIDE, or a non-canonical address; #UD when CPUID lacks it. */
START_TEST(test_invpcid_checks_its_descriptor)
{
	static const char invpcid[] = "\x66\x0f\x38\x82\x03";
	uint64_t desc[2] = { 0, 0x401000 };
	uint32_t r[4];

	vcpu_cpuid(&vm->cpu, 7, 0, r);
	harness_poke(vm, DATA_GPA, desc, sizeof(desc));
	vm->cpu.gpr[RBX] = DATA_GPA;
	vm->cpu.gpr[RAX] = 0;
	if (!(r[1] & (1u << 10))) {
		ck_assert_int_eq(RUN(vm, invpcid), EMU_FAULT);
		ck_assert_uint_eq(vm->cpu.exc.vector, X86_UD);
		return;
	}
	ck_assert_int_eq(RUN(vm, invpcid), EMU_NEXT);
	desc[1] = 0x0000800000000000ull;               /* not canonical */
	harness_poke(vm, DATA_GPA, desc, sizeof(desc));
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, invpcid), EMU_FAULT);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_GP);
	vm->cpu.exc.pending = false;
	desc[0] = 1;                                   /* PCID 1, no PCIDE */
	harness_poke(vm, DATA_GPA, desc, sizeof(desc));
	vm->cpu.gpr[RAX] = 1;
	ck_assert_int_eq(RUN(vm, invpcid), EMU_FAULT);
	vm->cpu.exc.pending = false;
	vm->cpu.gpr[RAX] = 2;                          /* all contexts */
	ck_assert_int_eq(RUN(vm, invpcid), EMU_NEXT);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 4;
	ck_assert_int_eq(RUN(vm, invpcid), EMU_FAULT);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_GP);
}
END_TEST

/* vmcall and vmmcall answer as KVM does: -KVM_ENOSYS for what is not
 * there, 0 for KVM_HC_VAPIC_POLL_IRQ, -KVM_EPERM from CPL 3. */
START_TEST(test_kvm_hypercalls_answer_enosys)
{
	vm->cpu.gpr[RAX] = ~0ull;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xd9"), EMU_NEXT);   /* vmmcall */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], (uint64_t)-1000);
	vm->cpu.gpr[RAX] = 1;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xc1"), EMU_NEXT);   /* vmcall */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0);
	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.gpr[RAX] = 1;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xd9"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], (uint64_t)-1);
}
END_TEST

/* ---- control registers ---- */

START_TEST(test_mov_from_cr0_reads_the_virtual_cr0)
{
	ck_assert_int_eq(RUN(vm, "\x0f\x20\xc0"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX],
			  CR0_PE | CR0_ET | CR0_NW | CR0_CD | CR0_PG);
}
END_TEST

START_TEST(test_mov_cr0_pg_without_pe_raises_gp)
{
	vm->cpu.gpr[RAX] = CR0_PG | CR0_ET;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xc0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_mov_cr0_clearing_pg_in_64bit_mode_raises_gp)
{
	vm->cpu.gpr[RAX] = vm->cpu.cr0 & ~CR0_PG;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xc0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_mov_cr4_reserved_bit_raises_gp)
{
	vm->cpu.gpr[RAX] = vm->cpu.cr4 | (1ull << 24);
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xe0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_mov_cr4_clearing_pae_in_long_mode_raises_gp)
{
	vm->cpu.gpr[RAX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xe0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_mov_cr3_switches_the_shadow_space)
{
	struct shadow_stats st;
	uint64_t pml4 = harness_peek64(vm, vm->cpu.cr3);

	harness_poke(vm, 0x400000, &pml4, 8);       /* same map, new root */
	vm->cpu.gpr[RBX] = 0x400000;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xdb"), EMU_NEXT); /* cr3, rbx */
	ck_assert_uint_eq(vm->cpu.cr3, 0x400000);
	shadow_get_stats(vm->mmu, &st);
	ck_assert_uint_eq(st.cr3_switches, 1);
}
END_TEST

START_TEST(test_mov_cr_at_cpl3_raises_gp)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	ck_assert_int_eq(RUN(vm, "\x0f\x20\xd8"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_mov_cr8_keeps_the_task_priority)
{
	vm->cpu.gpr[RAX] = 9;
	ck_assert_int_eq(RUN(vm, "\x44\x0f\x22\xc0"), EMU_NEXT);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RCX] = 0;
	ck_assert_int_eq(RUN(vm, "\x44\x0f\x20\xc1"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 9);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 16;
	ck_assert_int_eq(RUN(vm, "\x44\x0f\x22\xc0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_clts_clears_cr0_ts)
{
	vm->cpu.cr0 |= CR0_TS;
	ck_assert_int_eq(RUN(vm, "\x0f\x06"), EMU_NEXT);
	ck_assert(!(vm->cpu.cr0 & CR0_TS));
}
END_TEST

START_TEST(test_smsw_reports_cr0_and_obeys_umip)
{
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xe0"), EMU_NEXT);  /* smsw eax */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], vm->cpu.cr0);
	harness_gdt(vm);
	vm->cpu.cr4 |= CR4_UMIP;
	harness_user_mode(vm);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xe0"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

/* ---- descriptor tables and segments ---- */

START_TEST(test_lgdt_loads_base_and_limit)
{
	uint8_t m[10] = { 0x3f, 0x00, 0x00, 0x10, 0x30, 0, 0, 0, 0, 0 };

	harness_poke(vm, DATA_GPA, m, sizeof(m));
	vm->cpu.gpr[RAX] = DATA_GPA;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\x10"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gdtr.base, 0x301000);
	ck_assert_uint_eq(vm->cpu.gdtr.limit, 0x3f);
}
END_TEST

START_TEST(test_ltr_loads_tr_and_marks_the_tss_busy)
{
	harness_gdt(vm);
	vm->cpu.tr.sel = 0;
	vm->cpu.gpr[RAX] = 0x30;
	ck_assert_int_eq(RUN(vm, "\x0f\x00\xd8"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.tr.sel, 0x30);
	ck_assert_uint_eq(vm->cpu.tr.base, TSS_GPA);
	ck_assert_uint_eq((harness_peek64(vm, GDT_GPA + 0x30) >> 40) & 0xf,
			  SYS_TSS_BUSY);
	/* A busy TSS cannot be loaded again. */
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x0f\x00\xd8"), EMU_FAULT);
	assert_gp(0x30);
}
END_TEST

START_TEST(test_mov_ds_loads_the_guest_descriptor)
{
	harness_gdt(vm);
	vm->cpu.gpr[RAX] = 0x23;
	ck_assert_int_eq(RUN(vm, "\x8e\xd8"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.seg[SR_DS].sel, 0x23);
	ck_assert_uint_eq((vm->cpu.seg[SR_DS].attr & SEG_DPL_MASK) >>
			  SEG_DPL_SHIFT, 3);
}
END_TEST

START_TEST(test_mov_ds_past_the_gdt_limit_raises_gp_with_selector)
{
	harness_gdt(vm);
	vm->cpu.gpr[RAX] = 0x80;
	ck_assert_int_eq(RUN(vm, "\x8e\xd8"), EMU_FAULT);
	assert_gp(0x80);
}
END_TEST

START_TEST(test_mov_ss_kernel_data_at_cpl3_raises_gp)
{
	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.gpr[RAX] = 0x10;
	ck_assert_int_eq(RUN(vm, "\x8e\xd0"), EMU_FAULT);
	assert_gp(0x10);
}
END_TEST

START_TEST(test_mov_from_ds_reads_the_virtual_selector)
{
	harness_gdt(vm);
	vm->cpu.seg[SR_DS].sel = 0x10;
	vm->cpu.gpr[RAX] = ~0ull;
	ck_assert_int_eq(RUN(vm, "\x8c\xd8"), EMU_NEXT);      /* mov eax, ds */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x10);
}
END_TEST

START_TEST(test_pop_fs_loads_the_selector_and_moves_rsp)
{
	uint64_t sel = 0x10;

	harness_gdt(vm);
	vm->cpu.gpr[RSP] = STACK_TOP - 8;
	harness_poke(vm, STACK_TOP - 8, &sel, 8);
	ck_assert_int_eq(RUN(vm, "\x0f\xa1"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.seg[SR_FS].sel, 0x10);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP);
}
END_TEST

START_TEST(test_lretq_reloads_cs_from_the_guest_gdt)
{
	uint64_t frame[2] = { 0x123456, 0x28 };    /* 32-bit code segment */

	harness_gdt(vm);
	vm->cpu.gpr[RSP] = STACK_TOP - 16;
	harness_poke(vm, STACK_TOP - 16, frame, 16);
	ck_assert_int_eq(RUN(vm, "\x48\xcb"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x28);
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_COMPAT);
	ck_assert_uint_eq(vm->cpu.rip, 0x123456);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP);
}
END_TEST

START_TEST(test_iretq_to_user_mode_changes_cpl_and_stack)
{
	uint64_t frame[5] = { 0x201000, 0x1b, RFLAGS_FIXED | RFLAGS_IF,
			      0x2a0000, 0x23 };

	harness_gdt(vm);
	vm->cpu.gpr[RSP] = STACK_TOP - 40;
	harness_poke(vm, STACK_TOP - 40, frame, 40);
	ck_assert_int_eq(RUN(vm, "\x48\xcf"), EMU_JUMP);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 3);
	ck_assert_uint_eq(vm->cpu.seg[SR_SS].sel, 0x23);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], 0x2a0000);
	ck_assert_uint_eq(vm->cpu.rip, 0x201000);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
}
END_TEST

START_TEST(test_iretq_to_a_more_privileged_level_raises_gp)
{
	uint64_t frame[5] = { 0x201000, 0x08, RFLAGS_FIXED, STACK_TOP,
			      0x10 };

	harness_gdt(vm);
	harness_user_mode(vm);
	vm->cpu.gpr[RSP] = STACK_TOP - 40;
	harness_poke(vm, STACK_TOP - 40, frame, 40);
	ck_assert_int_eq(RUN(vm, "\x48\xcf"), EMU_FAULT);
	assert_gp(0x08);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 3);
}
END_TEST

/* ---- MSRs ---- */

START_TEST(test_wrmsr_then_rdmsr_round_trips_lstar)
{
	vm->cpu.gpr[RCX] = MSR_LSTAR;
	vm->cpu.gpr[RAX] = 0x89abcdefu;
	vm->cpu.gpr[RDX] = 0x00007fffu;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_NEXT);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = vm->cpu.gpr[RDX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x32"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x89abcdefu);
	ck_assert_uint_eq(vm->cpu.gpr[RDX], 0x7fff);
}
END_TEST

START_TEST(test_wrmsr_noncanonical_lstar_raises_gp)
{
	vm->cpu.gpr[RCX] = MSR_LSTAR;
	vm->cpu.gpr[RAX] = 0;
	vm->cpu.gpr[RDX] = 0x00008000u;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_rdmsr_of_an_unknown_msr_raises_gp)
{
	vm->cpu.gpr[RCX] = 0x12345;
	ck_assert_int_eq(RUN(vm, "\x0f\x32"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_cpuid_hides_tsc_adjust)
{
	uint32_t r[4];

	vcpu_cpuid(&vm->cpu, 7, 0, r);
	ck_assert_uint_eq(r[1] >> 1 & 1, 0);
}
END_TEST

START_TEST(test_machine_check_msrs_say_no_banks)
{
	vm->cpu.gpr[RCX] = MSR_IA32_MCG_CAP;
	vm->cpu.gpr[RAX] = vm->cpu.gpr[RDX] = 0xdead;
	ck_assert_int_eq(RUN(vm, "\x0f\x32"), EMU_NEXT);     /* rdmsr */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0);
	ck_assert_uint_eq(vm->cpu.gpr[RDX], 0);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_FAULT);    /* read-only */
	assert_gp(0);
	vm->cpu.exc.pending = false;
	vm->cpu.gpr[RCX] = MSR_IA32_MCG_STATUS;
	vm->cpu.gpr[RAX] = 1;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_FAULT);
	vm->cpu.exc.pending = false;
	vm->cpu.gpr[RAX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_NEXT);
}
END_TEST

START_TEST(test_efer_lme_cannot_change_while_paging)
{
	vm->cpu.gpr[RCX] = MSR_EFER;
	vm->cpu.gpr[RAX] = EFER_NXE | EFER_SCE;   /* LME dropped */
	vm->cpu.gpr[RDX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_FAULT);
	assert_gp(0);
	vm->cpu.exc.pending = false;
	vm->cpu.gpr[RAX] = EFER_NXE | EFER_SCE | EFER_LME;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.efer,
			  EFER_NXE | EFER_SCE | EFER_LME | EFER_LMA);
}
END_TEST

START_TEST(test_swapgs_exchanges_gs_base_and_kernel_gs_base)
{
	vm->cpu.seg[SR_GS].base = 0x1000;
	vm->cpu.kernel_gs_base = 0x2000;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\xf8"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.seg[SR_GS].base, 0x2000);
	ck_assert_uint_eq(vm->cpu.kernel_gs_base, 0x1000);
}
END_TEST

/* ---- syscall, sysret, int n, hypercalls ---- */

START_TEST(test_syscall_with_efer_sce_clear_raises_ud)
{
	ck_assert_int_eq(RUN(vm, "\x0f\x05"), EMU_FAULT);
	assert_ud();
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

static void enable_syscall(void)
{
	vm->cpu.efer |= EFER_SCE;
	vm->cpu.star = (0x10ull << 48) | (0x08ull << 32);
	vm->cpu.lstar = 0x250000;
	vm->cpu.sfmask = RFLAGS_IF | RFLAGS_DF;
}

START_TEST(test_syscall_from_user_mode_enters_lstar_at_cpl0)
{
	harness_gdt(vm);
	enable_syscall();
	harness_user_mode(vm);
	vm->cpu.rflags |= RFLAGS_DF;
	ck_assert_int_eq(RUN(vm, "\x0f\x05"), EMU_JUMP);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 0);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x08);
	ck_assert_uint_eq(vm->cpu.seg[SR_SS].sel, 0x10);
	ck_assert_uint_eq(vm->cpu.rip, 0x250000);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], CODE_GPA + 2);
	ck_assert(vm->cpu.gpr[R11] & RFLAGS_IF);
	ck_assert(vm->cpu.gpr[R11] & RFLAGS_DF);
	ck_assert(!(vm->cpu.rflags & (RFLAGS_IF | RFLAGS_DF)));
}
END_TEST

START_TEST(test_sysretq_returns_to_user_mode)
{
	harness_gdt(vm);
	enable_syscall();
	vm->cpu.gpr[RCX] = 0x201234;
	vm->cpu.gpr[R11] = RFLAGS_IF | RFLAGS_CF | RFLAGS_RF | RFLAGS_FIXED;
	ck_assert_int_eq(RUN(vm, "\x48\x0f\x07"), EMU_JUMP);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 3);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x10 + 16 + 3);
	ck_assert_uint_eq(vm->cpu.seg[SR_SS].sel, 0x10 + 8 + 3);
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_LONG64);
	ck_assert_uint_eq(vm->cpu.rip, 0x201234);
	ck_assert_uint_eq(vm->cpu.rflags,
			  RFLAGS_IF | RFLAGS_CF | RFLAGS_FIXED);
}
END_TEST

/* The single-step trap follows sysret when TF is set at its end (what
 * kvm-unit-tests' syscall test checks): #DB with the user RIP saved. */
START_TEST(test_sysret_that_loads_tf_traps_at_its_target)
{
	harness_gdt(vm);
	harness_gate(vm, X86_DB, 0x250000, 0, SYS_INTR_GATE);
	enable_syscall();
	vm->cpu.gpr[RCX] = 0x201234;
	vm->cpu.gpr[R11] = RFLAGS_TF | RFLAGS_FIXED;
	ck_assert_int_eq(RUN(vm, "\x0f\x07"), EMU_JUMP);   /* sysretl */
	ck_assert_uint_eq(vm->cpu.rip, 0x250000);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 0);
	ck_assert(!(vm->cpu.rflags & RFLAGS_TF));
	ck_assert(vm->cpu.dr[6] & DR6_BS);
	ck_assert_uint_eq(harness_peek64(vm, vm->cpu.gpr[RSP]), 0x201234);
	ck_assert_uint_eq(harness_peek64(vm, vm->cpu.gpr[RSP] + 8),
			  0x10 | 3);
}
END_TEST

/* ... and not a syscall whose SFMASK clears TF, though TF was set at
 * its start. */
START_TEST(test_syscall_that_masks_tf_does_not_trap)
{
	harness_gdt(vm);
	harness_gate(vm, X86_DB, 0x250000, 0, SYS_INTR_GATE);
	enable_syscall();
	vm->cpu.sfmask |= RFLAGS_TF;
	harness_user_mode(vm);
	vm->cpu.rflags |= RFLAGS_TF;
	ck_assert_int_eq(RUN(vm, "\x0f\x05"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, 0x250000);
	ck_assert(vm->cpu.gpr[R11] & RFLAGS_TF);
	ck_assert(!(vm->cpu.dr[6] & DR6_BS));
}
END_TEST

START_TEST(test_sysretq_to_a_noncanonical_rip_raises_gp)
{
	enable_syscall();
	vm->cpu.gpr[RCX] = 0x0000800000000000ull;
	ck_assert_int_eq(RUN(vm, "\x48\x0f\x07"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_int_n_from_user_through_a_dpl0_gate_raises_gp)
{
	harness_gdt(vm);
	harness_gate(vm, 0x40, 0x250000, 0, SYS_INTR_GATE);
	harness_user_mode(vm);
	ck_assert_int_eq(RUN(vm, "\xcd\x40"), EMU_FAULT);
	assert_gp(0x40 * 8 + 2);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

START_TEST(test_int_n_through_a_dpl3_gate_enters_the_handler)
{
	harness_gdt(vm);
	harness_gate(vm, 0x40, 0x250000, 3, SYS_TRAP_GATE);
	harness_user_mode(vm);
	ck_assert_int_eq(RUN(vm, "\xcd\x40"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, 0x250000);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 0);
	/* The frame's RIP is the instruction after int. */
	ck_assert_uint_eq(harness_peek64(vm, vm->cpu.gpr[RSP]), CODE_GPA + 2);
}
END_TEST

START_TEST(test_hypercall_version_answers_in_rax)
{
	vm->cpu.gpr[RAX] = TRAPEZE_HC_VERSION;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], TRAPEZE_ABI_VERSION);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
}
END_TEST

START_TEST(test_hypercall_console_write_prints_the_buffer)
{
	harness_poke(vm, DATA_GPA, "paravirtual\n", 12);
	vm->cpu.gpr[RAX] = TRAPEZE_HC_CONSOLE_WRITE;
	vm->cpu.gpr[RDI] = DATA_GPA;
	vm->cpu.gpr[RSI] = 12;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 12);
	ck_assert_str_eq(harness_console(vm), "paravirtual\n");
}
END_TEST

START_TEST(test_hypercall_with_a_bad_pointer_returns_efault)
{
	vm->cpu.gpr[RAX] = TRAPEZE_HC_CONSOLE_WRITE;
	vm->cpu.gpr[RDI] = 0x3f0000000000ull;
	vm->cpu.gpr[RSI] = 4;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_NEXT);
	ck_assert_int_eq((int64_t)vm->cpu.gpr[RAX], TRAPEZE_EFAULT);
	ck_assert(!vm->cpu.exc.pending);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = TRAPEZE_HC_CONSOLE_WRITE;
	vm->cpu.gpr[RDI] = DATA_GPA;
	vm->cpu.gpr[RSI] = 1ull << 40;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_NEXT);
	ck_assert_int_eq((int64_t)vm->cpu.gpr[RAX], TRAPEZE_EINVAL);
}
END_TEST

START_TEST(test_unknown_hypercall_returns_enosys)
{
	vm->cpu.gpr[RAX] = 999;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_NEXT);
	ck_assert_int_eq((int64_t)vm->cpu.gpr[RAX], TRAPEZE_ENOSYS);
}
END_TEST

START_TEST(test_hypercall_from_user_mode_is_an_ordinary_int)
{
	harness_gdt(vm);
	harness_gate(vm, 0x82, 0x250000, 0, SYS_INTR_GATE);
	harness_user_mode(vm);
	vm->cpu.gpr[RAX] = TRAPEZE_HC_VERSION;
	ck_assert_int_eq(RUN(vm, "\xcd\x82"), EMU_FAULT);
	assert_gp(0x82 * 8 + 2);
}
END_TEST

/* ---- memory operands (page-table stores) ---- */

START_TEST(test_store_to_a_page_table_is_performed)
{
	vm->cpu.gpr[RBX] = DATA_GPA;
	vm->cpu.gpr[RAX] = 0x1122334455667788ull;
	ck_assert_int_eq(RUN(vm, "\x48\x89\x03"), EMU_NEXT);  /* mov [rbx],rax */
	ck_assert_uint_eq(harness_peek64(vm, DATA_GPA), 0x1122334455667788ull);
}
END_TEST

START_TEST(test_lock_cmpxchg_compares_and_sets_zf)
{
	uint64_t old = 5;

	harness_poke(vm, DATA_GPA, &old, 8);
	vm->cpu.gpr[RBX] = DATA_GPA;
	vm->cpu.gpr[RAX] = 5;
	vm->cpu.gpr[RCX] = 9;
	ck_assert_int_eq(RUN(vm, "\xf0\x48\x0f\xb1\x0b"), EMU_NEXT);
	ck_assert_uint_eq(harness_peek64(vm, DATA_GPA), 9);
	ck_assert(vm->cpu.rflags & RFLAGS_ZF);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\xf0\x48\x0f\xb1\x0b"), EMU_NEXT);
	ck_assert(!(vm->cpu.rflags & RFLAGS_ZF));
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 9);
}
END_TEST

START_TEST(test_or_and_sub_with_memory_set_flags)
{
	uint64_t v = 0x80;

	harness_poke(vm, DATA_GPA, &v, 8);
	vm->cpu.gpr[RBX] = DATA_GPA;
	ck_assert_int_eq(RUN(vm, "\x48\x83\x0b\x04"), EMU_NEXT); /* or 4 */
	ck_assert_uint_eq(harness_peek64(vm, DATA_GPA), 0x84);
	ck_assert(!(vm->cpu.rflags & (RFLAGS_ZF | RFLAGS_CF)));
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x48\x83\x2b\x7f"), EMU_NEXT); /* sub 0x7f */
	ck_assert_uint_eq(harness_peek64(vm, DATA_GPA), 5);
	ck_assert(vm->cpu.rflags & RFLAGS_PF);          /* 0b101: even */
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x48\x83\x2b\x06"), EMU_NEXT); /* sub 6 */
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
	ck_assert(vm->cpu.rflags & RFLAGS_SF);
}
END_TEST

START_TEST(test_emulated_read_of_an_unmapped_address_raises_pf)
{
	vm->cpu.gpr[RAX] = 0x3f0000000000ull;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\x10"), EMU_FAULT); /* lgdt [rax] */
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_PF);
	ck_assert_uint_eq(vm->cpu.cr2, 0x3f0000000000ull);
	ck_assert_uint_eq(vm->cpu.exc.err, 0);
}
END_TEST

START_TEST(test_noncanonical_operand_raises_gp)
{
	vm->cpu.gpr[RAX] = 0x0000800000000000ull;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\x10"), EMU_FAULT);
	assert_gp(0);
}
END_TEST

START_TEST(test_fetch_from_an_unmapped_page_is_a_not_present_pf)
{
	vm->cpu.rip = 0x3f0000000000ull;
	ck_assert_int_eq(emulate_at_rip(&vm->cpu), EMU_FAULT);
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_PF);
	ck_assert_uint_eq(vm->cpu.cr2, 0x3f0000000000ull);
	ck_assert_uint_eq(vm->cpu.exc.err & (PFERR_P | PFERR_RSVD | PFERR_W), 0);
}
END_TEST

START_TEST(test_fetch_at_a_noncanonical_rip_raises_gp)
{
	vm->cpu.rip = 0x0000800000000000ull;
	ck_assert_int_eq(emulate_at_rip(&vm->cpu), EMU_FAULT);
	assert_gp(0);
}
END_TEST

/* ---- 32-bit protected mode (a multiboot entry) ---- */

/* The multiboot entry state at CODE_GPA, with a GDT of our own: 0x08
 * flat 32-bit code, 0x10 flat data, 0x18 64-bit code. */
static void setup32(void)
{
	static const uint64_t gdt[] = { 0, 0x00cf9b000000ffffull,
					0x00cf93000000ffffull,
					0x00af9b000000ffffull };

	vm = harness_vm();
	harness_poke(vm, GDT_GPA, gdt, sizeof(gdt));
	multiboot_reset_cpu(&vm->cpu, CODE_GPA);
	vm->cpu.gdtr.base = GDT_GPA;
	vm->cpu.gdtr.limit = sizeof(gdt) - 1;
	vm->cpu.gpr[RSP] = STACK_TOP;
	vcpu_paging_changed(&vm->cpu, true);
}

START_TEST(test_lgdt_in_32bit_mode_reads_a_6_byte_operand)
{
	uint8_t m[10] = { 0x1f, 0x00, 0x00, 0x10, 0x30, 0x00,
			  0xff, 0xff, 0xff, 0xff };

	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_PROT32);
	harness_poke(vm, DATA_GPA, m, sizeof(m));
	vm->cpu.gpr[RAX] = DATA_GPA;
	ck_assert_int_eq(RUN(vm, "\x0f\x01\x10"), EMU_NEXT);  /* lgdt [eax] */
	ck_assert_uint_eq(vm->cpu.gdtr.base, 0x301000);
	ck_assert_uint_eq(vm->cpu.gdtr.limit, 0x1f);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 3);
}
END_TEST

START_TEST(test_pushfd_in_32bit_mode_pushes_4_bytes_with_the_virtual_if)
{
	vm->cpu.rflags |= RFLAGS_IF;
	vm->cpu.gpr[RSP] = STACK_TOP;
	harness_poke(vm, STACK_TOP - 8, "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 8);
	ck_assert_int_eq(RUN(vm, "\x9c"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 4);
	ck_assert_uint_eq(harness_peek64(vm, STACK_TOP - 8) >> 32,
			  RFLAGS_IF | RFLAGS_FIXED);
	ck_assert_uint_eq(harness_peek64(vm, STACK_TOP - 8) & 0xffffffff,
			  0xaaaaaaaa);
}
END_TEST

START_TEST(test_stores_to_the_stack_in_32bit_mode_keep_their_length)
{
	/* What a store to a stack page that is also scanned code runs:
	 * movl $0x4681, (%esp); push $0x1c; call +0 */
	vm->cpu.gpr[RSP] = STACK_TOP - 16;
	ck_assert_int_eq(RUN(vm, "\xc7\x04\x24\x81\x46\x00\x00"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 7);
	ck_assert_uint_eq(harness_peek64(vm, STACK_TOP - 16) & 0xffffffff,
			  0x4681);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x6a\x1c"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 20);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\xe8\x00\x00\x00\x00"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 5);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 24);
	ck_assert_uint_eq(harness_peek64(vm, STACK_TOP - 24) & 0xffffffff,
			  CODE_GPA + 5);
}
END_TEST

START_TEST(test_iretd_in_32bit_mode_pops_eip_cs_eflags_only)
{
	uint32_t frame[3] = { CODE_GPA + 0x80, 0x08,
			      (uint32_t)(RFLAGS_IF | RFLAGS_FIXED) };

	harness_poke(vm, STACK_TOP - 12, frame, sizeof(frame));
	vm->cpu.gpr[RSP] = STACK_TOP - 12;
	ck_assert_int_eq(RUN(vm, "\xcf"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 0x80);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_PROT32);
}
END_TEST

START_TEST(test_lret_in_32bit_mode_pops_4_byte_eip_and_cs)
{
	uint32_t frame[2] = { CODE_GPA + 0x40, 0x08 };

	harness_poke(vm, STACK_TOP - 8, frame, sizeof(frame));
	vm->cpu.gpr[RSP] = STACK_TOP - 8;
	ck_assert_int_eq(RUN(vm, "\xcb"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 0x40);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x08);
}
END_TEST

/* Identity map of the first GiB in 2 MiB pages, at 0x310000. */
static void identity_tables(void)
{
	uint64_t pml4 = 0x310000, pdpt = 0x311000, pd = 0x312000, i;

	memset(vm->ram + pml4, 0, 3 * 4096);
	*(uint64_t *)(vm->ram + pml4) = pdpt | 3;
	*(uint64_t *)(vm->ram + pdpt) = pd | 3;
	for (i = 0; i < 512; i++)
		*(uint64_t *)(vm->ram + pd + 8 * i) = (i << 21) | 0x83;
}

START_TEST(test_32bit_code_switches_to_long_mode_step_by_step)
{
	identity_tables();
	vm->cpu.gpr[RAX] = CR4_PAE;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xe0"), EMU_NEXT);  /* mov cr4, eax */
	vm->cpu.gpr[RAX] = 0x310000;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xd8"), EMU_NEXT);  /* mov cr3, eax */
	vm->cpu.gpr[RCX] = MSR_EFER;
	vm->cpu.gpr[RAX] = EFER_LME;
	vm->cpu.gpr[RDX] = 0;
	ck_assert_int_eq(RUN(vm, "\x0f\x30"), EMU_NEXT);       /* wrmsr */
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_PROT32);
	vm->cpu.gpr[RAX] = CR0_PE | CR0_ET | CR0_PG;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xc0"), EMU_NEXT);  /* mov cr0, eax */
	ck_assert(vm->cpu.efer & EFER_LMA);
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_COMPAT);
	/* ljmp $0x18, $CODE_GPA + 0x100 */
	ck_assert_int_eq(RUN(vm, "\xea\x00\x01\x20\x00\x18\x00"), EMU_JUMP);
	ck_assert_int_eq(vcpu_mode(&vm->cpu), MODE_LONG64);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x18);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 0x100);
}
END_TEST

START_TEST(test_cr0_pg_with_lme_but_no_pae_raises_gp)
{
	vm->cpu.efer = EFER_LME;
	vm->cpu.gpr[RAX] = CR0_PE | CR0_ET | CR0_PG;
	ck_assert_int_eq(RUN(vm, "\x0f\x22\xc0"), EMU_FAULT);
	assert_gp(0);
	ck_assert(!(vm->cpu.efer & EFER_LMA));
}
END_TEST

START_TEST(test_in_32bit_mode_reads_the_port_into_al)
{
	vm->cpu.gpr[RAX] = 0x12345678;
	vm->cpu.gpr[RDX] = 0x3fd;                         /* COM1 LSR */
	ck_assert_int_eq(RUN(vm, "\xec"), EMU_NEXT);      /* in al, dx */
	ck_assert_uint_eq(vm->cpu.gpr[RAX] & 0xffffff00, 0x12345600);
	ck_assert(vm->cpu.gpr[RAX] & 0x20);                /* THR empty */
}
END_TEST


/* ---- ordinary instructions (emu-plain.c) ---- */

START_TEST(test_jcc_taken_and_not_taken)
{
	/* cmp eax, 5 (eax = 3): jb +0x10 is taken, jae +0x10 is not */
	vm->cpu.gpr[RAX] = 3;
	ck_assert_int_eq(RUN(vm, "\x83\xf8\x05"), EMU_NEXT);
	ck_assert_int_eq(RUN(vm, "\x72\x10"), EMU_JUMP);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 3 + 2 + 0x10);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\x73\x10"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
}
END_TEST

START_TEST(test_signed_conditions_follow_sf_and_of)
{
	/* cmp eax, 1 with eax = -1: jl taken, jg not, setle al = 1 */
	vm->cpu.gpr[RAX] = 0xffffffff;
	RUN(vm, "\x83\xf8\x01");
	ck_assert(emu_condition(&vm->cpu, X86_INS_JL));
	ck_assert(!emu_condition(&vm->cpu, X86_INS_JG));
	ck_assert(emu_condition(&vm->cpu, X86_INS_JA));      /* unsigned */
	ck_assert_int_eq(RUN(vm, "\x0f\x9e\xc0"), EMU_NEXT);  /* setle al */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xffffff01);
}
END_TEST

START_TEST(test_jrcxz_looks_at_the_count_register)
{
	vm->cpu.gpr[RCX] = 0x100000000ull;
	ck_assert_int_eq(RUN(vm, "\x67\xe3\x10"), EMU_JUMP);  /* jecxz */
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(RUN(vm, "\xe3\x10"), EMU_NEXT);      /* jrcxz */
}
END_TEST

START_TEST(test_cmov_zero_extends_even_when_not_moving)
{
	vm->cpu.gpr[RAX] = 0xffffffff00000001ull;
	vm->cpu.gpr[RBX] = 7;
	vm->cpu.rflags &= ~RFLAGS_ZF;
	ck_assert_int_eq(RUN(vm, "\x0f\x44\xc3"), EMU_NEXT);  /* cmove eax, ebx */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 1);
	vm->cpu.rflags |= RFLAGS_ZF;
	vm->cpu.rip = CODE_GPA;
	RUN(vm, "\x0f\x44\xc3");
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 7);
}
END_TEST

START_TEST(test_lea_computes_without_touching_memory)
{
	/* lea eax, [rbx + rcx*4 + 0x10]: 32-bit result */
	vm->cpu.gpr[RBX] = 0x1fffffff0ull;
	vm->cpu.gpr[RCX] = 2;
	ck_assert_int_eq(RUN(vm, "\x8d\x44\x8b\x10"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x8);
	ck_assert(!vm->cpu.exc.pending);
}
END_TEST

START_TEST(test_leave_restores_the_frame)
{
	vm->cpu.gpr[RBP] = STACK_TOP - 0x40;
	harness_poke(vm, STACK_TOP - 0x40, "\x88\x77\x66\x55\x44\x33\x22\x11",
		     8);
	ck_assert_int_eq(RUN(vm, "\xc9"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RBP], 0x1122334455667788ull);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 0x38);
}
END_TEST

/* enter $0x20, $0: push rbp, rbp = the new frame, 0x20 bytes below it;
 * enter $0x10, $2 also copies the outer frame pointer and pushes its
 * own (SDM vol. 2 ENTER). */
START_TEST(test_enter_builds_a_frame_with_its_display)
{
	uint64_t top = vm->cpu.gpr[RSP];

	vm->cpu.gpr[RBP] = STACK_TOP - 0x100;
	harness_poke(vm, STACK_TOP - 0x108, "\x11\x00\x00\x00\x00\x00\x00"
		     "\x00", 8);
	ck_assert_int_eq(RUN(vm, "\xc8\x20\x00\x00"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RBP], top - 8);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], top - 8 - 0x20);
	ck_assert_uint_eq(harness_peek64(vm, top - 8), STACK_TOP - 0x100);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RSP] = top;
	vm->cpu.gpr[RBP] = STACK_TOP - 0x100;
	ck_assert_int_eq(RUN(vm, "\xc8\x10\x00\x02"), EMU_NEXT);
	ck_assert_uint_eq(harness_peek64(vm, top - 8), STACK_TOP - 0x100);
	ck_assert_uint_eq(harness_peek64(vm, top - 16), 0x11);  /* display */
	ck_assert_uint_eq(harness_peek64(vm, top - 24), top - 8);
	ck_assert_uint_eq(vm->cpu.gpr[RBP], top - 8);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], top - 24 - 0x10);
}
END_TEST

START_TEST(test_shifts_set_carry_from_the_last_bit_out)
{
	vm->cpu.gpr[RAX] = 0x80000003;
	ck_assert_int_eq(RUN(vm, "\xc1\xe8\x02"), EMU_NEXT);  /* shr eax, 2 */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x20000000);
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 0x80000003;
	RUN(vm, "\xc1\xf8\x1f");                              /* sar eax, 31 */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xffffffff);
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 0xc0000000;
	vm->cpu.gpr[RCX] = 1;
	RUN(vm, "\xd3\xe0");                                  /* shl eax, cl */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x80000000);
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
	ck_assert(!(vm->cpu.rflags & RFLAGS_OF));   /* CF == new MSB */
	ck_assert(vm->cpu.rflags & RFLAGS_SF);
}
END_TEST

START_TEST(test_a_shift_by_zero_changes_no_flags)
{
	vm->cpu.gpr[RAX] = 5;
	vm->cpu.gpr[RCX] = 0x20;     /* masked to 0 for 32-bit operands */
	vm->cpu.rflags |= RFLAGS_ZF | RFLAGS_CF;
	ck_assert_int_eq(RUN(vm, "\xd3\xe8"), EMU_NEXT);      /* shr eax, cl */
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 5);
	ck_assert(vm->cpu.rflags & RFLAGS_ZF);
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
}
END_TEST

START_TEST(test_imul_forms_and_overflow)
{
	/* imul eax, ebx, 3 (ebx = -5) */
	vm->cpu.gpr[RBX] = 0xfffffffb;
	ck_assert_int_eq(RUN(vm, "\x6b\xc3\x03"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0xfffffff1);
	ck_assert(!(vm->cpu.rflags & RFLAGS_OF));
	/* imul ecx (eax = 0x10000, ecx = 0x10000): edx:eax = 2^32 */
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 0x10000;
	vm->cpu.gpr[RCX] = 0x10000;
	ck_assert_int_eq(RUN(vm, "\xf7\xe9"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0);
	ck_assert_uint_eq(vm->cpu.gpr[RDX], 1);
	ck_assert(vm->cpu.rflags & RFLAGS_OF);
	ck_assert(vm->cpu.rflags & RFLAGS_CF);
}
END_TEST

/*
 * The emulator's TLB keeps a translation until the guest says it
 * changed, as a TLB may: after invlpg the new mapping is used.
 */
START_TEST(test_the_emulator_tlb_is_flushed_by_invlpg)
{
	/* mov rax, [rbx]; invlpg [rbx]; mov rax, [rbx] */
	static const char code[] = "\x48\x8b\x03\x0f\x01\x3b\x48\x8b\x03";
	struct paging pg;
	struct walk w;
	uint64_t entry, other = 0x400000, data = DATA_GPA + 0x5000;

	/* (data is not in the TLB slot of the code page: an eviction would
	 * prove nothing) */
	vm->cpu.gpr[RBX] = data;
	harness_poke(vm, data, "\x11\x11\x00\x00\x00\x00\x00\x00", 8);
	ck_assert_int_eq(RUN(vm, "\x48\x8b\x03"), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x1111);
	/* Remap the large page of data and of the code to a copy that holds
	 * another value; the code is in both. */
	vcpu_paging(&vm->cpu, &pg);
	ck_assert_int_eq(shadow_walk(vm->mmu, &pg, data, ACC_PEEK, &w),
			 WALK_OK);
	ck_assert(CODE_GPA - w.page_base < w.page_size);
	harness_poke(vm, CODE_GPA, code, sizeof(code) - 1);
	memcpy(vm->ram + other, vm->ram + w.page_gpa, w.page_size);
	harness_poke(vm, other + (data - w.page_base),
		     "\x22\x22\x00\x00\x00\x00\x00\x00", 8);
	memcpy(&entry, vm->ram + w.leaf_gpa, 8);
	entry = (entry & ~(0x000ffffffffff000ull & ~(w.page_size - 1))) |
		other;
	harness_poke(vm, w.leaf_gpa, &entry, 8);
	vm->cpu.rip = CODE_GPA;
	ck_assert_int_eq(emulate_at_rip(&vm->cpu), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x1111);          /* stale */
	ck_assert_int_eq(emulate_at_rip(&vm->cpu), EMU_NEXT);    /* invlpg */
	ck_assert_int_eq(emulate_at_rip(&vm->cpu), EMU_NEXT);
	ck_assert_uint_eq(vm->cpu.gpr[RAX], 0x2222);
}
END_TEST

static Suite *emulate_suite(void)
{
	Suite *s = suite_create("emulate");
	TCase *t;

	t = tcase_create("interrupt flag");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_cli_at_cpl0_clears_virtual_if);
	tcase_add_test(t, test_sti_sets_virtual_if_and_interrupt_shadow);
	tcase_add_test(t, test_cli_at_cpl3_without_iopl_raises_gp);
	tcase_add_test(t, test_cli_at_cpl3_with_iopl3_clears_if);
	tcase_add_test(t, test_stac_and_clac_work_before_cr4_smap_is_set);
	tcase_add_test(t, test_stac_without_smap_in_cpuid_raises_ud);
	tcase_add_test(t, test_pushf_pushes_the_virtual_if);
	tcase_add_test(t, test_popf_at_cpl0_loads_if_and_iopl);
	tcase_add_test(t, test_popf_at_cpl3_keeps_if_and_iopl);
	tcase_add_test(t, test_hlt_at_cpl0_halts_after_the_instruction);
	tcase_add_test(t, test_hlt_at_cpl3_raises_gp);
	suite_add_tcase(s, t);

	t = tcase_create("port io");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_out_imm8_and_in_dx_reach_the_uart_scratch_register);
	tcase_add_test(t, test_out_imm8_al_writes_the_console);
	tcase_add_test(t, test_in_from_unclaimed_port_reads_all_ones);
	tcase_add_test(t, test_in_at_cpl3_without_iopl_raises_gp);
	tcase_add_test(t, test_io_bitmap_opens_a_port_at_cpl3);
	tcase_add_test(t, test_rep_outsb_writes_the_string_and_advances);
	tcase_add_test(t, test_rep_insw_stores_downwards_with_df);
	tcase_add_test(t, test_repe_cmpsb_stops_after_the_first_difference);
	tcase_add_test(t, test_repne_scasb_finds_the_byte);
	tcase_add_test(t, test_lodsw_loads_the_low_word_only);
	tcase_add_test(t, test_general_detect_faults_the_next_debug_register_access);
	tcase_add_test(t, test_invpcid_checks_its_descriptor);
	tcase_add_test(t, test_kvm_hypercalls_answer_enosys);
	suite_add_tcase(s, t);

	t = tcase_create("control registers");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_mov_from_cr0_reads_the_virtual_cr0);
	tcase_add_test(t, test_mov_cr0_pg_without_pe_raises_gp);
	tcase_add_test(t, test_mov_cr0_clearing_pg_in_64bit_mode_raises_gp);
	tcase_add_test(t, test_mov_cr4_reserved_bit_raises_gp);
	tcase_add_test(t, test_mov_cr4_clearing_pae_in_long_mode_raises_gp);
	tcase_add_test(t, test_mov_cr3_switches_the_shadow_space);
	tcase_add_test(t, test_mov_cr_at_cpl3_raises_gp);
	tcase_add_test(t, test_mov_cr8_keeps_the_task_priority);
	tcase_add_test(t, test_clts_clears_cr0_ts);
	tcase_add_test(t, test_smsw_reports_cr0_and_obeys_umip);
	suite_add_tcase(s, t);

	t = tcase_create("segments");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_lgdt_loads_base_and_limit);
	tcase_add_test(t, test_ltr_loads_tr_and_marks_the_tss_busy);
	tcase_add_test(t, test_mov_ds_loads_the_guest_descriptor);
	tcase_add_test(t, test_mov_ds_past_the_gdt_limit_raises_gp_with_selector);
	tcase_add_test(t, test_mov_ss_kernel_data_at_cpl3_raises_gp);
	tcase_add_test(t, test_mov_from_ds_reads_the_virtual_selector);
	tcase_add_test(t, test_pop_fs_loads_the_selector_and_moves_rsp);
	tcase_add_test(t, test_lretq_reloads_cs_from_the_guest_gdt);
	tcase_add_test(t, test_iretq_to_user_mode_changes_cpl_and_stack);
	tcase_add_test(t, test_iretq_to_a_more_privileged_level_raises_gp);
	suite_add_tcase(s, t);

	t = tcase_create("32-bit protected mode");
	tcase_add_checked_fixture(t, setup32, NULL);
	tcase_add_test(t, test_lgdt_in_32bit_mode_reads_a_6_byte_operand);
	tcase_add_test(t, test_pushfd_in_32bit_mode_pushes_4_bytes_with_the_virtual_if);
	tcase_add_test(t, test_stores_to_the_stack_in_32bit_mode_keep_their_length);
	tcase_add_test(t, test_iretd_in_32bit_mode_pops_eip_cs_eflags_only);
	tcase_add_test(t, test_lret_in_32bit_mode_pops_4_byte_eip_and_cs);
	tcase_add_test(t, test_32bit_code_switches_to_long_mode_step_by_step);
	tcase_add_test(t, test_cr0_pg_with_lme_but_no_pae_raises_gp);
	tcase_add_test(t, test_in_32bit_mode_reads_the_port_into_al);
	suite_add_tcase(s, t);

	t = tcase_create("msr");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_wrmsr_then_rdmsr_round_trips_lstar);
	tcase_add_test(t, test_machine_check_msrs_say_no_banks);
	tcase_add_test(t, test_cpuid_hides_tsc_adjust);
	tcase_add_test(t, test_wrmsr_noncanonical_lstar_raises_gp);
	tcase_add_test(t, test_rdmsr_of_an_unknown_msr_raises_gp);
	tcase_add_test(t, test_efer_lme_cannot_change_while_paging);
	tcase_add_test(t, test_swapgs_exchanges_gs_base_and_kernel_gs_base);
	suite_add_tcase(s, t);

	t = tcase_create("system calls and hypercalls");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_syscall_with_efer_sce_clear_raises_ud);
	tcase_add_test(t, test_sysret_that_loads_tf_traps_at_its_target);
	tcase_add_test(t, test_syscall_that_masks_tf_does_not_trap);
	tcase_add_test(t, test_syscall_from_user_mode_enters_lstar_at_cpl0);
	tcase_add_test(t, test_sysretq_returns_to_user_mode);
	tcase_add_test(t, test_sysretq_to_a_noncanonical_rip_raises_gp);
	tcase_add_test(t, test_int_n_from_user_through_a_dpl0_gate_raises_gp);
	tcase_add_test(t, test_int_n_through_a_dpl3_gate_enters_the_handler);
	tcase_add_test(t, test_hypercall_version_answers_in_rax);
	tcase_add_test(t, test_hypercall_console_write_prints_the_buffer);
	tcase_add_test(t, test_hypercall_with_a_bad_pointer_returns_efault);
	tcase_add_test(t, test_unknown_hypercall_returns_enosys);
	tcase_add_test(t, test_hypercall_from_user_mode_is_an_ordinary_int);
	suite_add_tcase(s, t);

	t = tcase_create("memory operands");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_store_to_a_page_table_is_performed);
	tcase_add_test(t, test_lock_cmpxchg_compares_and_sets_zf);
	tcase_add_test(t, test_or_and_sub_with_memory_set_flags);
	tcase_add_test(t, test_emulated_read_of_an_unmapped_address_raises_pf);
	tcase_add_test(t, test_noncanonical_operand_raises_gp);
	tcase_add_test(t, test_fetch_from_an_unmapped_page_is_a_not_present_pf);
	tcase_add_test(t, test_fetch_at_a_noncanonical_rip_raises_gp);
	tcase_add_test(t, test_the_emulator_tlb_is_flushed_by_invlpg);
	suite_add_tcase(s, t);

	t = tcase_create("ordinary instructions");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_jcc_taken_and_not_taken);
	tcase_add_test(t, test_signed_conditions_follow_sf_and_of);
	tcase_add_test(t, test_jrcxz_looks_at_the_count_register);
	tcase_add_test(t, test_cmov_zero_extends_even_when_not_moving);
	tcase_add_test(t, test_lea_computes_without_touching_memory);
	tcase_add_test(t, test_leave_restores_the_frame);
	tcase_add_test(t, test_enter_builds_a_frame_with_its_display);
	tcase_add_test(t, test_shifts_set_carry_from_the_last_bit_out);
	tcase_add_test(t, test_a_shift_by_zero_changes_no_flags);
	tcase_add_test(t, test_imul_forms_and_overflow);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(emulate_suite)
