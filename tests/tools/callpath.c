/*
 * The calls one trap makes, for scripts/trap-path: a monitor built with
 * -finstrument-functions calls these two hooks at every function's entry
 * and exit.  From the entry of the function at offset TRAP_PATH_ENTRY
 * (the backend's trap entry) to its return, every call is recorded with
 * its depth; the first such trap that called the function at offset
 * TRAP_PATH_MARK (the emulator of the instruction of interest) is written
 * to the file TRAP_PATH_OUT as "depth offset" lines, for addr2line.
 *
 * The hooks run inside the monitor's signal handler: they allocate
 * nothing and make no call but write(2) and open(2), once.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NI __attribute__((no_instrument_function))
#define MAX_CALLS 65536

extern char __executable_start[];

static uintptr_t entry, mark;
static int configured, recording, found, done;
static unsigned depth, ncalls;
static struct { unsigned depth; uintptr_t fn; } calls[MAX_CALLS];

NI static void configure(void)
{
	const char *e = getenv("TRAP_PATH_ENTRY"), *m = getenv("TRAP_PATH_MARK");

	configured = 1;
	if (!e || !m || !getenv("TRAP_PATH_OUT")) {
		done = 1;
		return;
	}
	entry = strtoull(e, NULL, 0);
	mark = strtoull(m, NULL, 0);
}

NI static void put(int fd, unsigned d, uintptr_t off)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%u %#lx\n", d,
			 (unsigned long)off);

	if (write(fd, line, (size_t)n) != n)
		_exit(125);
}

NI static void dump(void)
{
	int fd = open(getenv("TRAP_PATH_OUT"), O_WRONLY | O_CREAT | O_TRUNC,
		      0644);
	unsigned i;

	if (fd < 0)
		return;
	for (i = 0; i < ncalls; i++)
		put(fd, calls[i].depth, calls[i].fn);
	close(fd);
}

NI void __cyg_profile_func_enter(void *fn, void *site)
{
	uintptr_t off = (uintptr_t)fn - (uintptr_t)__executable_start;

	(void)site;
	if (!configured)
		configure();
	if (done)
		return;
	if (!recording && off == entry) {
		recording = 1;
		found = 0;
		depth = 0;
		ncalls = 0;
	}
	if (!recording)
		return;
	if (off == mark)
		found = 1;
	if (ncalls < MAX_CALLS) {
		calls[ncalls].depth = depth;
		calls[ncalls++].fn = off;
	}
	depth++;
}

NI void __cyg_profile_func_exit(void *fn, void *site)
{
	uintptr_t off = (uintptr_t)fn - (uintptr_t)__executable_start;

	(void)site;
	if (!recording)
		return;
	depth--;
	if (off == entry && depth == 0) {
		recording = 0;
		if (found) {
			dump();
			done = 1;
		}
	}
}
