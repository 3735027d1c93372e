/*
 * Virtual time.  Devices (the PIT, the paravirtual timer) own timers with
 * deadlines on the host's monotonic clock; one host timer is armed at the
 * earliest deadline.  Its signal interrupts the guest (see
 * backend-signal.c), and timers_run() fires what expired.  A halted vCPU
 * sleeps until timers_next().
 */
#ifndef TRAPEZE_TIMER_H
#define TRAPEZE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMERS_MAX 8
#define TICK_DEFERRALS 32   /* see timers_resume() */

struct vtimer {
	uint64_t deadline;                       /* ns; 0: stopped */
	uint64_t period;                         /* ns; 0: one-shot */
	void (*fire)(void *opaque, uint64_t now);
	void *opaque;
};

struct timers {
	struct vtimer *t[TIMERS_MAX];
	unsigned n;
	bool host;                               /* a host timer exists */
	void *host_timer;                        /* timer_t */
	uint64_t armed;                          /* its deadline */
	uint64_t fired;                          /* expirations, for stats */
	unsigned deferrals;                      /* see timers_resume() */
	uint64_t deferred, landed_in_monitor;    /* for stats */
	uint64_t rng;
};

uint64_t timer_now(void);
void timers_add(struct timers *ts, struct vtimer *t);
/* Create the host timer that delivers signo at deadlines; without it,
 * timers only fire when timers_run() is called. */
int timers_use_host_timer(struct timers *ts, int signo);
/* (Re)start t: first expiry after delay ns, then every period ns. */
void vtimer_start(struct timers *ts, struct vtimer *t, uint64_t delay,
		  uint64_t period);
void vtimer_stop(struct timers *ts, struct vtimer *t);
/* Fire every timer whose deadline passed, then re-arm the host timer. */
void timers_run(struct timers *ts);
/* Just before the guest resumes after a trap: if a periodic deadline
 * passed while the monitor worked, move its tick (signal signo) a little
 * later, to where the guest runs.  True if it did. */
bool timers_resume(struct timers *ts, int signo);
/* The earliest deadline, or 0 when no timer runs. */
uint64_t timers_next(const struct timers *ts);

#endif
