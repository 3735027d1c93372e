/*
 * init, pid 1: runs hello alone, then every other program at once, and
 * reports on each from its exit status (and report) once it has ended,
 * in spawn order.  The programs that run together print nothing, so this
 * transcript is the same however the scheduler interleaved them.  init's
 * own exit status, the number of surprises, ends the machine.
 */
#include "ulib.h"

#define SIEVE_PRIMES 1973815
#define SIEVE_SUM    0x03e97552            /* mod 2^32 */
#define MEMORY_PAGES 1024

#define VEC_DE 0
#define VEC_GP 13
#define VEC_PF 14

/* The programs from sieve to divzero; the ones after them are make
 * bench's (init=ops). */
#define TOGETHER_END (PROG_DIVZERO + 1)

typedef int (*describe_fn)(int status, uint64_t report);

static const char *const names[PROG_COUNT] = { PROG_NAMES };

static const char *reason(int status)
{
	static const char *const vectors[32] = {
		[0] = "divide error", [6] = "invalid opcode",
		[13] = "general protection", [14] = "page fault",
	};
	int v = KILL_REASON(status);

	if (status == KILLED_NOMEM)
		return "out of memory";
	return v < 32 && vectors[v] ? vectors[v] : "exception";
}

/* Any program can be killed; say so, and whether that was the plan. */
static int killed(const char *name, int status, int expected_vector)
{
	printf("%s: killed (%s)\n", name, reason(status));
	return KILL_REASON(status) != expected_vector;
}

static int describe_sieve(int status, uint64_t sum)
{
	if (IS_KILLED(status))
		return killed("sieve", status, -1);
	printf("sieve: %d primes below 32000000, sum mod 2^32 0x%08lx\n",
	       status, (unsigned long)sum);
	return status != SIEVE_PRIMES || sum != SIEVE_SUM;
}

static int describe_memory(int status, uint64_t sum)
{
	if (IS_KILLED(status))
		return killed("memory", status, -1);
	printf("memory: %d of %d demand-zero pages came zeroed and kept "
	       "their pattern\n", status, MEMORY_PAGES);
	return status != MEMORY_PAGES;
}

static int describe_sleeper(int status, uint64_t report)
{
	if (IS_KILLED(status))
		return killed("sleeper", status, -1);
	printf("sleeper: 5 sleeps of 100 ms, %d came back early\n", status);
	return status != 0;
}

static int expect_kill(const char *name, int status, int vector)
{
	if (IS_KILLED(status))
		return killed(name, status, vector);
	printf("%s: NOT killed: exit status %d\n", name, status);
	return 1;
}

static int describe_cli(int status, uint64_t report)
{
	return expect_kill("cli", status, VEC_GP);
}

static int describe_peek(int status, uint64_t report)
{
	return expect_kill("peek", status, VEC_PF);
}

static int describe_divzero(int status, uint64_t report)
{
	return expect_kill("divzero", status, VEC_DE);
}

static const describe_fn describe[TOGETHER_END] = {
	[PROG_SIEVE] = describe_sieve,
	[PROG_MEMORY] = describe_memory,
	[PROG_SLEEPER] = describe_sleeper,
	[PROG_CLI] = describe_cli,
	[PROG_PEEK] = describe_peek,
	[PROG_DIVZERO] = describe_divzero,
};

static int run_hello(void)
{
	int pid = spawn(PROG_HELLO), status;

	if (pid < 0) {
		printf("init: cannot spawn hello\n");
		return 1;
	}
	status = wait(pid, 0);
	printf("init: hello (pid %d) exited with status %d\n", pid, status);
	return status != 0;
}

static int run_together(void)
{
	int pids[TOGETHER_END], prog, surprises = 0;

	printf("init: starting sieve, memory, sleeper, cli, peek and "
	       "divzero together\n");
	for (prog = PROG_SIEVE; prog < TOGETHER_END; prog++)
		pids[prog] = spawn(prog);
	for (prog = PROG_SIEVE; prog < TOGETHER_END; prog++) {
		uint64_t rep = 0;
		int status;

		if (pids[prog] < 0) {
			printf("%s: cannot spawn\n", names[prog]);
			surprises++;
			continue;
		}
		status = wait(pids[prog], &rep);
		surprises += describe[prog](status, rep);
	}
	return surprises;
}

int init_main(void)
{
	int surprises;

	printf("init: pid %d\n", getpid());
	surprises = run_hello() + run_together();
	if (surprises)
		printf("init: %d surprise(s)\n", surprises);
	else
		printf("init: every program did what it should\n");
	return surprises;
}
