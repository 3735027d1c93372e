/*
 * Virtual time: periodic timers keep their grid, and a tick that comes
 * due while the monitor works is moved to where the guest runs.
 */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "check-main.h"
#include "timer.h"

#define SIG (SIGRTMIN + 1)

static struct timers ts;
static struct vtimer periodic, oneshot;
static unsigned fired;

static void count(void *opaque, uint64_t now)
{
	(void)opaque, (void)now;
	fired++;
}

static void setup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG);
	sigprocmask(SIG_BLOCK, &set, NULL);    /* as inside the monitor */
	memset(&ts, 0, sizeof(ts));
	periodic = (struct vtimer){ .fire = count };
	oneshot = (struct vtimer){ .fire = count };
	timers_add(&ts, &periodic);
	timers_add(&ts, &oneshot);
	ck_assert_int_eq(timers_use_host_timer(&ts, SIG), 0);
	fired = 0;
}

static void wait_ns(uint64_t ns)
{
	uint64_t end = timer_now() + ns;

	while (timer_now() < end)
		;
}

static bool queued(void)
{
	sigset_t set;

	sigpending(&set);
	return sigismember(&set, SIG);
}

START_TEST(test_a_periodic_tick_due_in_the_monitor_moves_later)
{
	uint64_t first;

	vtimer_start(&ts, &periodic, 100000, 10000000);     /* 10 ms */
	first = periodic.deadline;
	wait_ns(300000);
	ck_assert(queued());
	ck_assert(timers_resume(&ts, SIG));
	ck_assert(!queued());                     /* its signal is gone */
	ck_assert_uint_eq(fired, 0);
	ck_assert_uint_gt(ts.armed, timer_now());
	ck_assert_uint_le(ts.armed, timer_now() + 1020000);
	/* When it comes, the tick fires, on its grid. */
	wait_ns(1100000);
	timers_run(&ts);
	ck_assert_uint_eq(fired, 1);
	ck_assert_uint_eq(periodic.deadline, first + 10000000);
}
END_TEST

START_TEST(test_a_tick_is_moved_a_bounded_number_of_times)
{
	unsigned n = 0;

	vtimer_start(&ts, &periodic, 1, 10000000);
	for (;;) {
		wait_ns(1100000);
		if (!timers_resume(&ts, SIG))
			break;
		n++;
	}
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, TICK_DEFERRALS);
}
END_TEST

START_TEST(test_a_one_shot_deadline_is_never_moved)
{
	vtimer_start(&ts, &oneshot, 100000, 0);
	wait_ns(300000);
	ck_assert(!timers_resume(&ts, SIG));
	ck_assert(queued());
}
END_TEST

START_TEST(test_nothing_moves_before_the_deadline)
{
	vtimer_start(&ts, &periodic, 50000000, 50000000);
	ck_assert(!timers_resume(&ts, SIG));
}
END_TEST

static Suite *timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *t = tcase_create("ticks");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_a_periodic_tick_due_in_the_monitor_moves_later);
	tcase_add_test(t, test_a_tick_is_moved_a_bounded_number_of_times);
	tcase_add_test(t, test_a_one_shot_deadline_is_never_moved);
	tcase_add_test(t, test_nothing_moves_before_the_deadline);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(timer_suite)
