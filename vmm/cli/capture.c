/* Running a program and keeping its output (capture.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/capture.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int capture_run(char *const argv[], char *out, int timeout_s,
		bool with_stderr, double *wall_s)
{
	int fds[2], status = -1;
	size_t len = 0;
	double start = now_s(), end = start + timeout_s;
	pid_t pid;

	out[0] = 0;
	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fds[1], 1);
		dup2(with_stderr ? fds[1] : null, 2);
		dup2(null, 0);
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && now_s() < end) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(fds[0], out + len, CAPTURE_MAX - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = 0;
	close(fds[0]);
	if (pid > 0) {
		if (now_s() >= end)
			kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (wall_s)
		*wall_s = now_s() - start;
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool capture_self(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}
