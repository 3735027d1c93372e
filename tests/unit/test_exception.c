/*
 * Event delivery through the guest's IDT: frame layout, stack switches,
 * gate checks, and the escalation to #DF and to a triple fault.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "cpu/exception.h"
#include "harness.h"
#include "cpu/irq.h"
#include "dev/lapic.h"
#include "dev/lapic-internal.h"

#define HANDLER 0x250000ull

static struct vm *vm;

static void setup(void)
{
	vm = harness_vm();
	harness_gdt(vm);
}

/* The 64-bit frame, lowest address first: [err,] rip, cs, rflags, rsp, ss */
static uint64_t frame(unsigned i)
{
	return harness_peek64(vm, vm->cpu.gpr[RSP] + 8 * i);
}

/* An NMI is taken with IF clear, and the next waits for the first
 * handler's iret. */
START_TEST(test_nmi_ignores_if_and_waits_for_iret)
{
	uint64_t top = vm->cpu.gpr[RSP];

	harness_gate(vm, X86_NMI, HANDLER, 0, SYS_INTR_GATE);
	vm->cpu.rflags &= ~RFLAGS_IF;
	vm->pc.lapic->nmi = true;
	ck_assert(irq_takes_now(&vm->cpu));
	irq_deliver(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert_uint_eq(frame(0), CODE_GPA);
	ck_assert(vm->cpu.nmi_blocked);
	vm->pc.lapic->nmi = true;                   /* a second one, nested */
	ck_assert(!irq_takes_now(&vm->cpu));
	irq_deliver(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], top - 40);
	ck_assert_int_eq(harness_run(vm, "\x48\xcf", 2), EMU_JUMP); /* iretq */
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
	ck_assert(!vm->cpu.nmi_blocked);
	irq_deliver(&vm->cpu);                         /* now the second */
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
}
END_TEST

/* An instruction the monitor emulates while the guest single-steps owes
 * it the #DB the hardware raises after each instruction (the host's own
 * single step only covers what runs natively), with DR6.BS; a load of
 * SS holds it back for one instruction. */
START_TEST(test_emulated_instruction_with_tf_set_traps_after_it)
{
	struct host_trap t = { .kind = HT_INSN, .vector = X86_GP };

	harness_gate(vm, X86_DB, HANDLER, 0, SYS_INTR_GATE);
	harness_poke(vm, CODE_GPA, "\xfa", 1);             /* cli */
	vm->cpu.rflags |= RFLAGS_TF;
	vm->cpu.dr[6] = 0xffff0ff0;
	vm_trap(vm, &t);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert_uint_eq(frame(0), CODE_GPA + 1);
	ck_assert_uint_eq(vm->cpu.dr[6], 0xffff0ff0 | DR6_BS);
}
END_TEST

START_TEST(test_mov_to_ss_with_tf_set_holds_the_trap_back)
{
	struct host_trap t = { .kind = HT_INSN, .vector = X86_GP };

	harness_gate(vm, X86_DB, HANDLER, 0, SYS_INTR_GATE);
	harness_poke(vm, CODE_GPA, "\x8e\xd0", 2);       /* mov %eax,%ss */
	vm->cpu.gpr[RAX] = vm->cpu.seg[SR_SS].sel;
	vm->cpu.rflags |= RFLAGS_TF;
	vm_trap(vm, &t);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
	ck_assert(!vm->cpu.exc.pending);
}
END_TEST

/* hlt with TF set owes its single-step trap when the halt ends: the
 * interrupt that ends it waits for the #DB handler. */
START_TEST(test_hlt_with_tf_set_traps_when_the_halt_ends)
{
	struct host_trap t = { .kind = HT_INSN, .vector = X86_GP };

	harness_gate(vm, X86_DB, HANDLER, 0, SYS_INTR_GATE);
	harness_gate(vm, 0x40, HANDLER + 0x100, 0, SYS_INTR_GATE);
	harness_poke(vm, CODE_GPA, "\xf4", 1);             /* hlt */
	vm->cpu.rflags |= RFLAGS_TF | RFLAGS_IF;
	vm->cpu.dr[6] = 0xffff0ff0;
	vm->cpu.halted = false;
	vm->pc.lapic->svr |= SVR_ENABLE;
	lapic_accept(vm->pc.lapic, 0x40, false);   /* what will end the halt */
	vm_trap(vm, &t);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert_uint_eq(frame(0), CODE_GPA + 1);
	ck_assert_uint_eq(vm->cpu.dr[6], 0xffff0ff0 | DR6_BS);
	ck_assert(!vm->cpu.halted);
	ck_assert(!(vm->cpu.rflags & RFLAGS_IF));   /* 0x40 still waits */
}
END_TEST

START_TEST(test_gp_is_delivered_with_a_64bit_frame_and_error_code)
{
	harness_gate(vm, X86_GP, HANDLER, 0, SYS_INTR_GATE);
	vm->cpu.rip = 0x201000;
	vm->cpu.gpr[RSP] = STACK_TOP - 8;   /* deliberately misaligned */
	vm->cpu.rflags = RFLAGS_FIXED | RFLAGS_IF | RFLAGS_ZF;
	vcpu_raise_gp(&vm->cpu, 0x18);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	/* RSP is aligned to 16 before the five-quadword frame and the error
	 * code are pushed. */
	ck_assert_uint_eq(vm->cpu.gpr[RSP], STACK_TOP - 16 - 48);
	ck_assert_uint_eq(frame(0), 0x18);
	ck_assert_uint_eq(frame(1), 0x201000);
	ck_assert_uint_eq(frame(2), 0x08);
	ck_assert_uint_eq(frame(3), RFLAGS_FIXED | RFLAGS_IF | RFLAGS_ZF |
				    RFLAGS_RF);
	ck_assert_uint_eq(frame(4), STACK_TOP - 8);
	ck_assert_uint_eq(frame(5), 0x10);
	ck_assert(!(vm->cpu.rflags & RFLAGS_IF));   /* interrupt gate */
}
END_TEST

START_TEST(test_trap_gate_keeps_if)
{
	harness_gate(vm, X86_UD, HANDLER, 0, SYS_TRAP_GATE);
	vm->cpu.rflags |= RFLAGS_IF;
	vcpu_raise_ud(&vm->cpu);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
}
END_TEST

START_TEST(test_page_fault_sets_cr2_and_pushes_the_error_code)
{
	harness_gate(vm, X86_PF, HANDLER, 0, SYS_INTR_GATE);
	vcpu_raise_pf(&vm->cpu, 0xdead000, PFERR_W | PFERR_P);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.cr2, 0xdead000);
	ck_assert_uint_eq(frame(0), PFERR_W | PFERR_P);
}
END_TEST

START_TEST(test_exception_from_user_mode_switches_to_rsp0)
{
	harness_gate(vm, X86_GP, HANDLER, 0, SYS_INTR_GATE);
	harness_user_mode(vm);
	vm->cpu.rip = 0x201000;
	vm->cpu.gpr[RSP] = 0x2a0000;
	vcpu_raise_gp(&vm->cpu, 0);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vcpu_cpl(&vm->cpu), 0);
	ck_assert_uint_eq(vm->cpu.seg[SR_CS].sel, 0x08);
	/* SS becomes the null selector with RPL = the new CPL. */
	ck_assert_uint_eq(vm->cpu.seg[SR_SS].sel, 0);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], 0x2e0000 - 48);
	ck_assert_uint_eq(frame(2), 0x1b);
	ck_assert_uint_eq(frame(4), 0x2a0000);
	ck_assert_uint_eq(frame(5), 0x23);
}
END_TEST

START_TEST(test_ist_gate_always_switches_stacks)
{
	uint64_t ist1 = 0x2d0000;
	uint32_t g[2];

	harness_poke(vm, TSS_GPA + 0x24, &ist1, 8);
	harness_gate(vm, X86_DF, HANDLER, 0, SYS_INTR_GATE);
	memcpy(g, vm->ram + IDT_GPA + X86_DF * 16, 8);
	g[1] |= 1;                                  /* IST 1 */
	harness_poke(vm, IDT_GPA + X86_DF * 16, g, 8);
	vcpu_raise(&vm->cpu, X86_DF, true, 0);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.gpr[RSP], ist1 - 48);
}
END_TEST

START_TEST(test_not_present_gate_raises_np_then_df)
{
	harness_gate(vm, X86_GP, HANDLER, 0, SYS_INTR_GATE);
	harness_gate(vm, X86_DF, HANDLER + 0x100, 0, SYS_INTR_GATE);
	vm->ram[IDT_GPA + X86_GP * 16 + 5] &= 0x7f;   /* clear P */
	vcpu_raise_gp(&vm->cpu, 0);
	exception_deliver_pending(&vm->cpu);
	/* #GP then #NP (both contributory): a double fault. */
	ck_assert_uint_eq(vm->cpu.rip, HANDLER + 0x100);
	ck_assert_uint_eq(frame(0), 0);
}
END_TEST

START_TEST(test_benign_then_contributory_is_delivered_serially)
{
	/* #UD's gate is missing (beyond the limit): #GP(ud*8+2) instead. */
	harness_gate(vm, X86_GP, HANDLER, 0, SYS_INTR_GATE);
	vm->ram[IDT_GPA + X86_UD * 16 + 5] &= 0x7f;
	vcpu_raise_ud(&vm->cpu);
	exception_deliver_pending(&vm->cpu);
	ck_assert_uint_eq(vm->cpu.rip, HANDLER);
	ck_assert_uint_eq(frame(0), X86_UD * 8 + 2);
}
END_TEST

START_TEST(test_a_guest_without_an_idt_triple_faults)
{
	vm->cpu.idtr.limit = 0;
	vcpu_raise_ud(&vm->cpu);
	exception_deliver_pending(&vm->cpu);   /* exits with EXIT_GUEST_CRASH */
}
END_TEST

START_TEST(test_gate_to_a_32bit_code_segment_raises_gp)
{
	uint32_t g[2];

	harness_gate(vm, 0x30, HANDLER, 0, SYS_INTR_GATE);
	harness_gate(vm, X86_GP, HANDLER + 0x200, 0, SYS_INTR_GATE);
	memcpy(g, vm->ram + IDT_GPA + 0x30 * 16, 8);
	g[0] = (g[0] & 0xffff) | (0x28u << 16);   /* code32 selector */
	harness_poke(vm, IDT_GPA + 0x30 * 16, g, 8);
	ck_assert(!event_deliver(&vm->cpu, 0x30, EV_EXTERNAL, false, 0));
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_GP);
	ck_assert_uint_eq(vm->cpu.exc.err, 0x28 | ERR_EXT);
}
END_TEST

START_TEST(test_delivery_onto_an_unmapped_stack_page_faults)
{
	harness_gate(vm, X86_UD, HANDLER, 0, SYS_INTR_GATE);
	harness_gate(vm, X86_PF, HANDLER + 0x100, 0, SYS_INTR_GATE);
	vm->cpu.gpr[RSP] = 0x3f0000001000ull;
	ck_assert(!event_deliver(&vm->cpu, X86_UD, EV_FAULT, false, 0));
	ck_assert_uint_eq(vm->cpu.exc.vector, X86_PF);
	ck_assert_uint_eq(vm->cpu.cr2 & ~0xfffull, 0x3f0000000000ull);
	ck_assert(vm->cpu.exc.err & PFERR_W);
}
END_TEST

static Suite *exception_suite(void)
{
	Suite *s = suite_create("exception");
	TCase *t = tcase_create("delivery");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_gp_is_delivered_with_a_64bit_frame_and_error_code);
	tcase_add_test(t, test_emulated_instruction_with_tf_set_traps_after_it);
	tcase_add_test(t, test_mov_to_ss_with_tf_set_holds_the_trap_back);
	tcase_add_test(t, test_hlt_with_tf_set_traps_when_the_halt_ends);
	tcase_add_test(t, test_trap_gate_keeps_if);
	tcase_add_test(t, test_page_fault_sets_cr2_and_pushes_the_error_code);
	tcase_add_test(t, test_exception_from_user_mode_switches_to_rsp0);
	tcase_add_test(t, test_ist_gate_always_switches_stacks);
	tcase_add_test(t, test_gate_to_a_32bit_code_segment_raises_gp);
	tcase_add_test(t, test_delivery_onto_an_unmapped_stack_page_faults);
	suite_add_tcase(s, t);

	t = tcase_create("escalation");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_not_present_gate_raises_np_then_df);
	tcase_add_test(t, test_benign_then_contributory_is_delivered_serially);
	tcase_add_test(t, test_nmi_ignores_if_and_waits_for_iret);
	tcase_add_exit_test(t, test_a_guest_without_an_idt_triple_faults,
			    EXIT_GUEST_CRASH);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(exception_suite)
