/*
 * Running a program for a demonstration and keeping what it printed.
 */
#ifndef TRAPEZE_CAPTURE_H
#define TRAPEZE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#define CAPTURE_MAX 65536

/* Run argv with its stdout (and its stderr too, with_stderr; else
 * dropped) in out, at most CAPTURE_MAX - 1 bytes, NUL-terminated; killed
 * after timeout_s.  The exit status, or -1 (not run, killed).  *wall_s,
 * if not NULL: how long it ran. */
int capture_run(char *const argv[], char *out, int timeout_s,
		bool with_stderr, double *wall_s);

/* This program's own path (for running `trapeze run`), in buf; false if
 * it cannot be found. */
bool capture_self(char *buf, size_t size);

#endif
