/*
 * Virtual time.  Devices (the PIT, the local APIC, the IDE drive, the
 * paravirtual timer) own timers with deadlines on the guest's clock, or
 * on the host's for a device whose delays are its own (a disk's); one
 * host timer is armed at the earliest of them.  Its signal interrupts the
 * guest (the backend sets it up: backend/signal.c), and timers_run() fires what expired.  A
 * halted vCPU sleeps for timers_wait().
 *
 * The guest's clock is the host's monotonic clock less the time the
 * monitor spent working for it (emulating, mapping, scanning) and the
 * host's own cost of each trap's signal (timer.c): a vCPU's
 * time runs while its code runs natively or waits in hlt, as a CPU's own
 * time would.  Without this, a guest that traps often would see its
 * ticks fall mostly in the monitor's time, that is at the instructions
 * the monitor emulates (the sti that ends a critical section), and an
 * expensive piece of the monitor's work (re-creating a large address
 * space) could use up a whole time slice: the guest would see a tick
 * after every switch and never progress.  The guest's clock never runs
 * ahead of the host's, so a timer never fires early by the host's clock.
 */
#ifndef TRAPEZE_TIMER_H
#define TRAPEZE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMERS_MAX 8
/* Kinds of trap whose host round trips cost differently (timer.c): the
 * backend says which one it took. */
enum { TRIP_OTHER, TRIP_BREAKPOINT, TRIP_GP, TRIP_PF, TRIP_CALLOUT,
       TRIP_KINDS };

struct vtimer {
	uint64_t deadline;                       /* ns on its clock; 0: stopped */
	uint64_t period;                         /* ns; 0: one-shot */
	void (*fire)(void *opaque, uint64_t now);
	void *opaque;
	bool host_clock;                         /* a device's own time, not
						    the guest's (see above) */
};

struct timers {
	struct vtimer *t[TIMERS_MAX];
	unsigned n;
	/* The host's monotonic clock, ns: timer_now unless injected (the
	 * unit tests' fake clock). */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	/* The host timer whose signal interrupts the guest at the earliest
	 * deadline: set it to fire at host time ns (0: disarm).  NULL: no
	 * host timer, timers fire only when timers_run() is called.  The
	 * backend provides it (backend/signal.c). */
	void (*arm)(void *ctx, uint64_t ns);
	void *arm_ctx;
	uint64_t armed;                          /* the deadline it is set
						    for (timers_next()) */
	uint64_t fired;                          /* expirations, for stats */
	uint64_t early;                          /* host timer fired early */
	uint64_t monitor_ns;                     /* host time not the guest's */
	uint64_t entered;                        /* host time the monitor
						    began; 0: the guest runs */
	uint64_t left;                           /* host time it last ended */
	uint64_t looks;                          /* reads of the guest's
						    clock in this trap */
	struct trip {                            /* see timer.c */
		uint64_t ns;                     /* the host's own cost */
		uint64_t least;                  /* least gap of this round */
		unsigned count;                  /* traps in this round */
	} trip[TRIP_KINDS];
};

/* The host's monotonic clock, ns. */
uint64_t timer_now(void);
/* Read the host's clock through the TSC, which counts tsc_khz a
 * millisecond, between real readings each millisecond: only where the
 * host's own clock is the TSC (hostcpu's tsc_clock). */
void timer_use_tsc(uint64_t tsc_khz);
/* Use clock as the host's clock (NULL: timer_now). */
void timers_set_clock(struct timers *ts, uint64_t (*clock)(void *ctx),
		      void *ctx);
/* Give the timers a host timer (see struct timers' arm), and set it. */
void timers_set_host_timer(struct timers *ts,
			   void (*arm)(void *ctx, uint64_t ns), void *ctx);
/* The guest's clock, ns (frozen while the monitor works). */
uint64_t timers_guest_now(struct timers *ts);
/* A trap: the monitor starts working for the guest, and stops (the guest
 * resumes).  A halted guest's wait, between timers_idle_begin() and
 * timers_idle_end(), is the guest's time. */
void timers_monitor_begin(struct timers *ts, unsigned kind);
void timers_monitor_end(struct timers *ts);
void timers_idle_begin(struct timers *ts);
void timers_idle_end(struct timers *ts);
void timers_add(struct timers *ts, struct vtimer *t);
/* (Re)start t: first expiry after delay ns, then every period ns, of the
 * guest's clock. */
void vtimer_start(struct timers *ts, struct vtimer *t, uint64_t delay,
		  uint64_t period);
void vtimer_stop(struct timers *ts, struct vtimer *t);
/* Fire every timer whose deadline passed, then re-arm the host timer. */
void timers_run(struct timers *ts);
/* The earliest deadline, on the guest's clock, or 0 when no timer runs. */
uint64_t timers_next(const struct timers *ts);
/* How long until then should the guest's clock run (a halted guest's
 * does), in ns: 0 if it has passed, UINT64_MAX when no timer runs. */
uint64_t timers_wait(struct timers *ts);

#endif
