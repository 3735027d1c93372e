/*
 * Virtual time (see timer.h).  Periodic timers catch up by whole periods
 * when the guest was not running: a tick that fires late fires once, as an
 * edge on an interrupt line would be seen once, and the next deadline
 * stays on the period's grid.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "timer.h"

uint64_t timer_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void timers_add(struct timers *ts, struct vtimer *t)
{
	if (ts->n < TIMERS_MAX)
		ts->t[ts->n++] = t;
}

int timers_use_host_timer(struct timers *ts, int signo)
{
	static timer_t id;
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = signo;
	if (timer_create(CLOCK_MONOTONIC, &ev, &id) != 0)
		return -1;
	ts->host_timer = &id;
	ts->host = true;
	ts->armed = 0;
	ts->rng = 0x9e3779b97f4a7c15ull;
	timers_run(ts);
	return 0;
}

uint64_t timers_next(const struct timers *ts)
{
	uint64_t next = 0;
	unsigned i;

	for (i = 0; i < ts->n; i++)
		if (ts->t[i]->deadline &&
		    (!next || ts->t[i]->deadline < next))
			next = ts->t[i]->deadline;
	return next;
}

/* Set the host timer to fire at when (0: never). */
static void arm_host(struct timers *ts, uint64_t when)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = when / 1000000000ull;
	it.it_value.tv_nsec = when % 1000000000ull;
	timer_settime(*(timer_t *)ts->host_timer, TIMER_ABSTIME, &it, NULL);
	ts->armed = when;
}

static void rearm(struct timers *ts)
{
	uint64_t next = timers_next(ts);

	if (ts->host && next != ts->armed)
		arm_host(ts, next);
}

void vtimer_start(struct timers *ts, struct vtimer *t, uint64_t delay,
		  uint64_t period)
{
	t->deadline = timer_now() + (delay ? delay : 1);
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
	uint64_t now = timer_now();
	unsigned i;

	ts->deferrals = 0;
	for (i = 0; i < ts->n; i++) {
		struct vtimer *t = ts->t[i];

		if (!t->deadline || t->deadline > now)
			continue;
		if (t->period) {
			uint64_t late = (now - t->deadline) / t->period;

			t->deadline += (late + 1) * t->period;
		} else {
			t->deadline = 0;
		}
		ts->fired++;
		t->fire(t->opaque, now);
	}
	ts->armed = 0;   /* the host timer fired or was never set */
	rearm(ts);
}

/*
 * A periodic tick whose deadline passed while the monitor was emulating
 * would be taken at the instruction the monitor just emulated: with a
 * guest that traps every few instructions, mostly the sti or popf that
 * ends a critical section, where real hardware would rarely put it (it
 * puts ticks wherever time is spent, and the time spent emulating is
 * the monitor's, not the guest's).  Such a tick is moved a little later,
 * to land where the guest runs natively, as a timer with some jitter
 * would: at most TICK_DEFERRALS times in a row, by 20 us plus up to an
 * eighth of its period (1 ms at most).  One-shot timers are never moved.
 */
static uint64_t jitter(struct timers *ts, uint64_t period)
{
	uint64_t span = period / 8 < 1000000 ? period / 8 : 1000000;

	ts->rng ^= ts->rng << 13;
	ts->rng ^= ts->rng >> 7;
	ts->rng ^= ts->rng << 17;
	return 20000 + (span ? ts->rng % span : 0);
}

bool timers_resume(struct timers *ts, int signo)
{
	static const struct timespec zero = { 0, 0 };
	uint64_t now, period = 0;
	sigset_t set;
	unsigned i;

	if (!ts->host || !ts->armed || (now = timer_now()) < ts->armed)
		return false;
	if (ts->deferrals >= TICK_DEFERRALS) {
		ts->landed_in_monitor++;
		return false;
	}
	for (i = 0; i < ts->n; i++) {
		const struct vtimer *t = ts->t[i];

		if (!t->deadline || t->deadline > now)
			continue;
		if (!t->period)
			return false;
		if (!period || t->period < period)
			period = t->period;
	}
	if (!period)
		return false;
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigtimedwait(&set, NULL, &zero);        /* its signal, if queued */
	ts->deferrals++;
	ts->deferred++;
	arm_host(ts, now + jitter(ts, period));
	return true;
}
