/*
 * Virtual time (see timer.h).  Periodic timers catch up by whole periods
 * when the guest was not running: a tick that fires late fires once, as an
 * edge on an interrupt line would be seen once, and the next deadline
 * stays on the period's grid.
 */
#include <string.h>
#include <time.h>

#include "dev/timer.h"

/*
 * The host's monotonic clock, read on every trap (twice: the monitor's
 * time is kept off the guest's clock), where clock_gettime was a sixth of
 * an emulated out.  With the TSC's rate known and the host's clock itself
 * the TSC (timer_use_tsc), it is the TSC scaled from the last reading of
 * the real clock, which is taken again each millisecond: between, the
 * error of the rate (a few 1e-6) makes nanoseconds at most.
 */
static struct {
	uint64_t khz;               /* 0: clock_gettime every time */
	uint64_t tsc0, ns0, last;   /* the last real reading; the last answer */
	uint64_t resync;            /* TSC ticks between real readings */
} tsc_clock;

static uint64_t clock_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void timer_use_tsc(uint64_t tsc_khz)
{
	tsc_clock.khz = tsc_khz;
	tsc_clock.resync = tsc_khz;             /* a millisecond's */
	tsc_clock.tsc0 = 0;
}

uint64_t timer_now(void)
{
	uint64_t t, ns;

	if (!tsc_clock.khz)
		return clock_ns();
	t = __builtin_ia32_rdtsc();
	if (!tsc_clock.tsc0 || t - tsc_clock.tsc0 >= tsc_clock.resync) {
		tsc_clock.tsc0 = t;
		tsc_clock.ns0 = clock_ns();
		ns = tsc_clock.ns0;
	} else {
		ns = tsc_clock.ns0 +
		     (t - tsc_clock.tsc0) * 1000000ull / tsc_clock.khz;
	}
	/* (Never backwards, across a real reading a little behind.) */
	if (ns < tsc_clock.last)
		ns = tsc_clock.last;
	tsc_clock.last = ns;
	return ns;
}

/* The host's clock as these timers see it. */
static uint64_t host_now(const struct timers *ts)
{
	return ts->clock ? ts->clock(ts->clock_ctx) : timer_now();
}

void timers_set_clock(struct timers *ts, uint64_t (*clock)(void *ctx),
		      void *ctx)
{
	ts->clock = clock;
	ts->clock_ctx = ctx;
}

/* While the monitor works, the guest's clock stands still but for a
 * nanosecond at each look: two reads of a count by consecutive
 * instructions, both emulated, still see time pass, as on a CPU. */
uint64_t timers_guest_now(struct timers *ts)
{
	if (ts->entered)
		return ts->entered - ts->monitor_ns + ++ts->looks;
	return host_now(ts) - ts->monitor_ns;
}

/*
 * A trap costs the host's kernel a signal delivery and a sigreturn, about
 * as much again as the monitor's own work, and that time lies outside the
 * handler, between its clock readings.  Counted as the guest's, it
 * would put most of the guest's time at its trapping instructions (the
 * critical sections around them, where interrupts are off), so it is
 * taken off too: each gap between two traps loses the least gap seen
 * before a trap of its kind in the last round of TRIP_ROUND of them, the
 * cost of a round trip with no guest instruction between (the first
 * round loses nothing).  A page fault costs the host more than an int3.
 * A least gap can only be below the true cost, so the guest's clock
 * never stops.
 */
#define TRIP_ROUND 16384u

void timers_monitor_begin(struct timers *ts, unsigned kind)
{
	uint64_t now = host_now(ts), gap;
	struct trip *k = &ts->trip[kind < TRIP_KINDS ? kind : TRIP_OTHER];

	if (ts->entered)
		return;
	ts->entered = now;
	if (!ts->left)
		return;
	gap = now - ts->left;
	ts->monitor_ns += gap < k->ns ? gap : k->ns;
	if (!k->count || gap < k->least)
		k->least = gap;
	if (++k->count == TRIP_ROUND) {
		k->ns = k->least;
		k->count = 0;
	}
}

void timers_monitor_end(struct timers *ts)
{
	uint64_t now = host_now(ts);

	if (ts->entered) {
		uint64_t spent = now - ts->entered;

		ts->monitor_ns += spent - (ts->looks < spent ? ts->looks
							       : spent);
	}
	ts->entered = 0;
	ts->looks = 0;
	ts->left = now;
}

void timers_idle_begin(struct timers *ts)
{
	timers_monitor_end(ts);
	ts->left = 0;                   /* a wait, not a trap's round trip */
}

void timers_idle_end(struct timers *ts)
{
	timers_monitor_begin(ts, TRIP_OTHER);
}

void timers_add(struct timers *ts, struct vtimer *t)
{
	if (ts->n < TIMERS_MAX)
		ts->t[ts->n++] = t;
}

void timers_set_host_timer(struct timers *ts,
			   void (*arm)(void *ctx, uint64_t ns), void *ctx)
{
	ts->arm = arm;
	ts->arm_ctx = ctx;
	ts->armed = 0;
	timers_run(ts);
}

/* Where t's clock stands now. */
static uint64_t now_of(struct timers *ts, const struct vtimer *t)
{
	return t->host_clock ? host_now(ts) : timers_guest_now(ts);
}

/* A deadline on t's clock, as a time of the guest's clock should the
 * guest run from now on. */
static uint64_t as_guest(const struct timers *ts, const struct vtimer *t)
{
	return t->host_clock ? t->deadline - ts->monitor_ns : t->deadline;
}

uint64_t timers_next(const struct timers *ts)
{
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < ts->n; i++) {
		uint64_t d = as_guest(ts, ts->t[i]);

		if (ts->t[i]->deadline && (!next || d < next))
			next = d;
	}
	return next;
}

uint64_t timers_wait(struct timers *ts)
{
	uint64_t guest = timers_guest_now(ts), host = host_now(ts);
	uint64_t wait = UINT64_MAX;
	unsigned i;

	for (i = 0; i < ts->n; i++) {
		const struct vtimer *t = ts->t[i];
		uint64_t now = t->host_clock ? host : guest;
		uint64_t left = t->deadline > now ? t->deadline - now : 0;

		if (t->deadline && left < wait)
			wait = left;
	}
	return wait;
}

/*
 * Set the host timer for the first deadline, as if the guest ran from
 * now on.  A host-clock one is exact.  For a guest-clock one, the time
 * the guest then spends in the monitor holds its clock back, so the host
 * timer comes early, and timers_run() sets it again for what is left.
 * It is never late, and a round costs one signal, little beside the
 * monitor's time that made it early.
 */
static void arm_host(struct timers *ts)
{
	uint64_t wait = timers_wait(ts);

	ts->arm(ts->arm_ctx, wait == UINT64_MAX ? 0 : host_now(ts) + wait);
	ts->armed = timers_next(ts);
}

static void rearm(struct timers *ts)
{
	if (ts->arm && timers_next(ts) != ts->armed)
		arm_host(ts);
}

void vtimer_start(struct timers *ts, struct vtimer *t, uint64_t delay,
		  uint64_t period)
{
	t->deadline = now_of(ts, t) + (delay ? delay : 1);
	t->period = period;
	rearm(ts);
}

void vtimer_stop(struct timers *ts, struct vtimer *t)
{
	t->deadline = 0;
	rearm(ts);
}

void timers_run(struct timers *ts)
{
	uint64_t guest = timers_guest_now(ts), host = host_now(ts);
	unsigned i, due = 0;

	for (i = 0; i < ts->n; i++) {
		struct vtimer *t = ts->t[i];
		uint64_t now = t->host_clock ? host : guest;

		if (!t->deadline || t->deadline > now)
			continue;
		if (t->period) {
			uint64_t late = (now - t->deadline) / t->period;

			t->deadline += (late + 1) * t->period;
		} else {
			t->deadline = 0;
		}
		due++;
		ts->fired++;
		t->fire(t->opaque, now);
	}
	if (ts->armed && !due)
		ts->early++;
	ts->armed = 0;   /* the host timer fired or was never set */
	rearm(ts);
}
