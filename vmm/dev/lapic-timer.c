/*
 * The local APIC's timer (SDM 11.5.4): one-shot, periodic and
 * TSC-deadline.  It counts at 1 GHz before the divider, as QEMU's does,
 * so one tick of a divide-by-1 timer is one nanosecond of virtual time.
 * The current count is computed from when the count began, never
 * ticked; only expiries are host timers (timer.c).
 */
#include "dev/timer.h"
#include "dev/lapic.h"
#include "dev/lapic-internal.h"


static unsigned divide_shift(uint32_t tdcr)
{
	return ((((tdcr & 8) >> 1) | (tdcr & 3)) + 1) & 7;
}

static uint64_t ticks_ns(const struct lapic *l, uint64_t ticks)
{
	return ticks << divide_shift(l->tdcr);
}

static uint32_t timer_mode(const struct lapic *l)
{
	return TIMER_MODE(l->lvt[LVT_TIMER]);
}

/* The current count (TMCCT), from the time since the count began. */
uint32_t lapic_timer_count(const struct lapic *l)
{
	uint64_t ticks;

	if (!l->counting || !l->tmict || timer_mode(l) == TIMER_DEADLINE)
		return 0;
	ticks = (timers_guest_now(l->ts) - l->start) >> divide_shift(l->tdcr);
	if (timer_mode(l) == TIMER_PERIODIC)
		return l->tmict - (uint32_t)(ticks % l->tmict);
	return ticks >= l->tmict ? 0 : l->tmict - (uint32_t)ticks;
}

/* Arm the host-side timer for the count as it stands.  A periodic
 * timer interrupts at most every MIN_PERIOD_NS, as KVM also limits it:
 * a host signal every few nanoseconds would starve the guest. */
#define MIN_PERIOD_NS 50000ull

static void timer_arm(struct lapic *l)
{
	uint32_t left = lapic_timer_count(l);
	uint64_t period = 0;

	if (!l->counting || !left) {
		vtimer_stop(l->ts, &l->timer);
		return;
	}
	if (timer_mode(l) == TIMER_PERIODIC) {
		period = ticks_ns(l, l->tmict);
		if (period < MIN_PERIOD_NS)
			period = MIN_PERIOD_NS;
	}
	vtimer_start(l->ts, &l->timer, ticks_ns(l, left), period);
}

/* Keep the current count across a change of divider or mode. */
static void timer_rebase(struct lapic *l, uint32_t count)
{
	l->start = timers_guest_now(l->ts) - ticks_ns(l, l->tmict - count);
}

void lapic_timer_fire(void *opaque, uint64_t now)
{
	struct lapic *l = opaque;

	if (timer_mode(l) == TIMER_DEADLINE) {
		if (!l->deadline)
			return;
		l->deadline = 0;
	} else if (timer_mode(l) == TIMER_ONESHOT) {
		l->counting = false;
	}
	if (!(l->lvt[LVT_TIMER] & LVT_MASKED))
		lapic_accept(l, l->lvt[LVT_TIMER] & 0xff, false);
}

void lapic_write_tmict(struct lapic *l, uint32_t val)
{
	if (timer_mode(l) == TIMER_DEADLINE)
		return;                        /* ignored in that mode */
	l->tmict = val;
	l->start = timers_guest_now(l->ts);
	l->counting = val != 0;
	timer_arm(l);
}

void lapic_write_tdcr(struct lapic *l, uint32_t val)
{
	uint32_t count = lapic_timer_count(l);

	l->tdcr = val & 0xb;
	if (l->counting && count) {
		timer_rebase(l, count);
		timer_arm(l);
	}
}

void lapic_write_lvt_timer(struct lapic *l, uint32_t val)
{
	uint32_t old_mode = timer_mode(l), count = lapic_timer_count(l);

	l->lvt[LVT_TIMER] = val;
	if (timer_mode(l) == old_mode)
		return;
	if (old_mode == TIMER_DEADLINE || timer_mode(l) == TIMER_DEADLINE) {
		/* Entering or leaving TSC-deadline mode disarms the timer. */
		l->counting = false;
		l->tmict = 0;
		l->deadline = 0;
		vtimer_stop(l->ts, &l->timer);
		return;
	}
	/* One-shot <-> periodic: the count goes on from where it is; an
	 * expired one-shot stays at zero. */
	if (l->counting && count) {
		timer_rebase(l, count);
		timer_arm(l);
	} else {
		l->counting = false;
		vtimer_stop(l->ts, &l->timer);
	}
}

uint64_t lapic_tsc_deadline(const struct lapic *l)
{
	return timer_mode(l) == TIMER_DEADLINE ? l->deadline : 0;
}

void lapic_set_tsc_deadline(struct lapic *l, uint64_t deadline)
{
	uint64_t now_tsc, delta;

	if (timer_mode(l) != TIMER_DEADLINE)
		return;                        /* writes are ignored (SDM) */
	l->deadline = deadline;
	if (!deadline) {
		vtimer_stop(l->ts, &l->timer);
		return;
	}
	now_tsc = l->tsc(l->tsc_opaque);
	if (deadline <= now_tsc) {
		vtimer_stop(l->ts, &l->timer);
		lapic_timer_fire(l, 0);
		return;
	}
	delta = deadline - now_tsc;
	vtimer_start(l->ts, &l->timer,
		     (uint64_t)((unsigned __int128)delta * 1000000 / l->tsc_khz),
		     0);
}
