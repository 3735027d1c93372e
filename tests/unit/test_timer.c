/*
 * Virtual time: the guest's clock stops while the monitor works (and
 * for the host's own cost of each trap), runs while the guest runs or
 * halts; devices' own delays keep the host's; periodic timers keep their
 * grid.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/timer.h"

static struct timers ts;
static struct vtimer periodic, oneshot;
static unsigned fired;

/* The host's clock, and its timer, as the tests make them: time passes
 * only when a test says so, and the host timer "fires" once the clock
 * reaches the time it was set for. */
static uint64_t fake_now, armed_at;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void fake_arm(void *ctx, uint64_t ns)
{
	(void)ctx;
	armed_at = ns;
}

static void count(void *opaque, uint64_t now)
{
	(void)opaque, (void)now;
	fired++;
}

static void setup(void)
{
	memset(&ts, 0, sizeof(ts));
	fake_now = 1000000000;
	armed_at = 0;
	timers_set_clock(&ts, fake_clock, NULL);
	periodic = (struct vtimer){ .fire = count };
	oneshot = (struct vtimer){ .fire = count };
	timers_add(&ts, &periodic);
	timers_add(&ts, &oneshot);
	timers_set_host_timer(&ts, fake_arm, NULL);
	fired = 0;
}

static void wait_ns(uint64_t ns)
{
	fake_now += ns;
}

static bool queued(void)
{
	return armed_at && armed_at <= fake_now;
}

/* The host timer's signal came (it fires once, then is disarmed). */
static bool took_signal(void)
{
	if (!queued())
		return false;
	armed_at = 0;
	return true;
}

START_TEST(test_the_guests_clock_stops_while_the_monitor_works)
{
	uint64_t g0, g1, w0, w1;

	w0 = fake_now;
	timers_monitor_begin(&ts, TRIP_GP);
	g0 = timers_guest_now(&ts);
	wait_ns(2000000);
	/* Stands still but for a nanosecond at each look. */
	ck_assert_uint_eq(timers_guest_now(&ts), g0 + 1);
	timers_monitor_end(&ts);
	/* The monitor's 2 ms are off the guest's clock, but for the two
	 * nanoseconds its two looks saw pass. */
	ck_assert_uint_eq(ts.monitor_ns, 2000000 - 2);
	wait_ns(1000000);
	g1 = timers_guest_now(&ts);
	w1 = fake_now;
	/* The guest's 1 ms counts (and the nanosecond of its last look). */
	ck_assert_uint_eq(g1 - g0, 1000000 + 1);
	ck_assert_uint_eq(g1 - g0 + ts.monitor_ns, w1 - w0 - 1);
	ck_assert_uint_le(g1, fake_now);
}
END_TEST

START_TEST(test_a_tick_due_by_the_host_clock_waits_for_the_guests)
{
	uint64_t first;

	vtimer_start(&ts, &periodic, 1000000, 10000000);
	first = periodic.deadline;
	timers_monitor_begin(&ts, TRIP_GP);
	wait_ns(3000000);                       /* the monitor's 3 ms */
	ck_assert(took_signal());               /* the host timer was early */
	timers_run(&ts);                        /* (still in the monitor) */
	ck_assert_uint_eq(fired, 0);
	ck_assert_uint_eq(ts.early, 1);
	timers_monitor_end(&ts);
	/* The guest runs 1 ms: the tick is due, on its grid. */
	wait_ns(1100000);
	ck_assert(took_signal());
	timers_monitor_begin(&ts, TRIP_GP);
	timers_run(&ts);
	timers_monitor_end(&ts);
	ck_assert_uint_eq(fired, 1);
	/* The next deadline is one period on, on the grid. */
	ck_assert_uint_eq(periodic.deadline, first + 10000000);
}
END_TEST

START_TEST(test_a_devices_own_delay_runs_on_the_host_clock)
{
	oneshot.host_clock = true;
	vtimer_start(&ts, &oneshot, 1000000, 0);
	timers_monitor_begin(&ts, TRIP_GP);
	wait_ns(1100000);
	timers_run(&ts);                        /* the monitor looks */
	ck_assert_uint_eq(fired, 1);
	ck_assert_uint_eq(oneshot.deadline, 0);
	timers_monitor_end(&ts);
}
END_TEST

START_TEST(test_a_halted_guests_clock_runs)
{
	uint64_t g0, m0;

	vtimer_start(&ts, &oneshot, 1000000, 0);
	timers_monitor_begin(&ts, TRIP_GP);
	g0 = timers_guest_now(&ts);
	timers_idle_begin(&ts);
	m0 = ts.monitor_ns;
	ck_assert_uint_le(timers_wait(&ts), 1000000);
	wait_ns(1100000);
	ck_assert_uint_eq(timers_wait(&ts), 0);
	timers_idle_end(&ts);
	ck_assert_uint_eq(ts.monitor_ns, m0);   /* a wait is no round trip */
	ck_assert_uint_ge(timers_guest_now(&ts) - g0, 1100000);
	timers_run(&ts);
	ck_assert_uint_eq(fired, 1);
	timers_monitor_end(&ts);
}
END_TEST

START_TEST(test_the_hosts_cost_of_a_trap_is_learned_and_taken_off)
{
	uint64_t m0;
	unsigned i;

	ck_assert_uint_eq(ts.trip[TRIP_PF].ns, 0);
	/* Traps with no guest instruction between: each gap is only the
	 * host's round trip, 2.5 us, and a few are longer (the guest ran). */
	for (i = 0; i < 2 * 16384; i++) {
		timers_monitor_begin(&ts, TRIP_PF);
		wait_ns(700);
		timers_monitor_end(&ts);
		wait_ns(i % 7 ? 2500 : 40000);
	}
	ck_assert_uint_eq(ts.trip[TRIP_PF].ns, 2500);
	ck_assert_uint_eq(ts.trip[TRIP_GP].ns, 0);   /* kinds apart */
	/* A gap longer than a round trip loses exactly one. */
	wait_ns(1000000);
	m0 = ts.monitor_ns;
	timers_monitor_begin(&ts, TRIP_PF);
	ck_assert_uint_eq(ts.monitor_ns - m0, ts.trip[TRIP_PF].ns);
	timers_monitor_end(&ts);
}
END_TEST

START_TEST(test_nothing_fires_before_the_deadline)
{
	vtimer_start(&ts, &periodic, 50000000, 50000000);
	timers_run(&ts);
	ck_assert_uint_eq(fired, 0);
	ck_assert(!queued());
	ck_assert_uint_gt(timers_next(&ts), timers_guest_now(&ts));
}
END_TEST

static Suite *timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *t = tcase_create("ticks");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_the_guests_clock_stops_while_the_monitor_works);
	tcase_add_test(t, test_a_tick_due_by_the_host_clock_waits_for_the_guests);
	tcase_add_test(t, test_a_devices_own_delay_runs_on_the_host_clock);
	tcase_add_test(t, test_a_halted_guests_clock_runs);
	tcase_add_test(t, test_the_hosts_cost_of_a_trap_is_learned_and_taken_off);
	tcase_add_test(t, test_nothing_fires_before_the_deadline);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(timer_suite)
