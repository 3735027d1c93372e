/*
 * Hardware breakpoints (vmm/debugreg.h): DR0-DR3 and DR7 as this
 * process's own perf breakpoints, which raise SIGTRAP with TRAP_PERF and
 * the breakpoint's number; and the DR6 and RF a hit leaves.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "cpu/debugreg.h"
#include "core/vm.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

static struct vm vm;
static volatile long watched;
static volatile int hits;
static volatile unsigned long hit_data;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code != TRAP_PERF)
		return;
	hits++;
	memcpy((void *)&hit_data, (const char *)&si->si_addr + sizeof(void *),
	       sizeof(hit_data));
}

static void setup(void)
{
	struct sigaction sa;
	unsigned i;

	memset(&vm, 0, sizeof(vm));
	vm.cpu.dbg.arm = true;
	/* This process's data stands for the guest's window here. */
	vm.cpu.mem.window_lo = 0;
	vm.cpu.mem.window_hi = ~0ull;
	for (i = 0; i < 4; i++)
		vm.cpu.dbg.fd[i] = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	hits = 0;
}

static void teardown(void)
{
	vm.cpu.dr[7] = 0x400;
	debugreg_arm(&vm.cpu);
	signal(SIGTRAP, SIG_DFL);
}

START_TEST(test_a_write_watchpoint_fires_with_its_number)
{
	/* DR1: write, 8 bytes (R/W1 = 01, LEN1 = 10), enabled (L1). */
	vm.cpu.dr[1] = (uint64_t)&watched;
	vm.cpu.dr[7] = 0x400 | (1u << 2) | (1u << 20) | (2u << 22);
	debugreg_arm(&vm.cpu);
	if (vm.cpu.dbg.fd[1] < 0)
		return;              /* no perf breakpoints on this host */
	ck_assert(debugreg_armed(&vm.cpu));
	(void)watched;           /* a read: not a write watchpoint's */
	ck_assert_int_eq(hits, 0);
	watched = 5;
	ck_assert_int_eq(hits, 1);
	ck_assert_uint_eq(hit_data, 2);          /* DR1, as i + 1 */
	vm.cpu.dr[7] = 0x400;                    /* disarmed: silent */
	debugreg_arm(&vm.cpu);
	ck_assert(!debugreg_armed(&vm.cpu));
	watched = 6;
	ck_assert_int_eq(hits, 1);
}
END_TEST

START_TEST(test_what_cannot_fire_is_not_armed)
{
	vm.cpu.dr[0] = 0x1000;                   /* I/O port (R/W0 = 10) */
	vm.cpu.dr[7] = 0x400 | 1u | (2u << 16);
	debugreg_arm(&vm.cpu);
	ck_assert_int_eq(vm.cpu.dbg.fd[0], -1);
	vm.cpu.mem.window_hi = 1ull << 46;               /* outside the window */
	vm.cpu.dr[0] = 0xffffffff80000000ull;
	vm.cpu.dr[7] = 0x400 | 1u;
	debugreg_arm(&vm.cpu);
	ck_assert_int_eq(vm.cpu.dbg.fd[0], -1);
	ck_assert(!debugreg_exec_at(&vm.cpu, 0xffffffff80000000ull));
}
END_TEST

START_TEST(test_a_hit_sets_its_b_bit_and_an_instruction_hit_clears_rf)
{
	vm.cpu.dr[6] = 0xffff0ff0ull | (1u << 14) | 1u;   /* BS, stale B0 */
	vm.cpu.dr[7] = 0x400 | (1u << 4);                  /* DR2: execute */
	vm.cpu.rflags = RFLAGS_FIXED | RFLAGS_RF;
	debugreg_hit(&vm.cpu, 2);
	ck_assert_uint_eq(vm.cpu.dr[6], 0xffff0ff0ull | (1u << 14) | 4u);
	ck_assert(!(vm.cpu.rflags & RFLAGS_RF));
	vm.cpu.dr[7] = 0x400 | (1u << 2) | (1u << 20);     /* DR1: write */
	vm.cpu.rflags = RFLAGS_FIXED | RFLAGS_RF;
	debugreg_hit(&vm.cpu, 1);
	ck_assert(vm.cpu.rflags & RFLAGS_RF);
}
END_TEST

/* An access the monitor emulates trips the data breakpoints natively
 * armed ones would: at once, or after a load of SS one instruction
 * later, or merged into the #DB of an icebp. */
START_TEST(test_emulated_accesses_trip_data_breakpoints)
{
	vm.cpu.dbg.fd[1] = 1000;                     /* armed (not a real one) */
	vm.cpu.dr[1] = 0x5000;
	vm.cpu.dr[7] = 0x400 | (1u << 2) | (3u << 20) | (3u << 22); /* RW, 4 */
	vm.cpu.dr[6] = 0xffff0ff0;
	debugreg_access(&vm.cpu, 0x4ffc, 4, false);  /* just below: no */
	ck_assert_uint_eq(vm.cpu.dbg.hits, 0);
	debugreg_access(&vm.cpu, 0x5002, 2, false);
	ck_assert_uint_eq(vm.cpu.dbg.hits, 2);
	debugreg_settle(&vm.cpu, false, false);
	ck_assert(vm.cpu.exc.pending);
	ck_assert_uint_eq(vm.cpu.exc.vector, X86_DB);
	ck_assert_uint_eq(vm.cpu.dr[6], 0xffff0ff0 | 2);

	vm.cpu.exc.pending = false;
	debugreg_access(&vm.cpu, 0x5000, 8, true);
	debugreg_settle(&vm.cpu, true, false);       /* mov to SS: held */
	ck_assert(!vm.cpu.exc.pending);
	ck_assert(vm.cpu.irq.step);
	debugreg_settle(&vm.cpu, false, false);      /* the next instruction */
	ck_assert(vm.cpu.exc.pending);

	vm.cpu.exc.pending = false;
	vm.cpu.dr[6] = 0xffff0ff0;
	debugreg_access(&vm.cpu, 0x5000, 1, false);
	debugreg_settle(&vm.cpu, false, true);       /* icebp: one #DB for both */
	ck_assert(!vm.cpu.exc.pending);
	ck_assert_uint_eq(vm.cpu.dr[6], 0xffff0ff0 | 2);
	vm.cpu.dbg.fd[1] = -1;
}
END_TEST

static Suite *debugreg_suite(void)
{
	Suite *s = suite_create("debugreg");
	TCase *t = tcase_create("debugreg");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_a_write_watchpoint_fires_with_its_number);
	tcase_add_test(t, test_what_cannot_fire_is_not_armed);
	tcase_add_test(t, test_a_hit_sets_its_b_bit_and_an_instruction_hit_clears_rf);
	tcase_add_test(t, test_emulated_accesses_trip_data_breakpoints);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(debugreg_suite)
