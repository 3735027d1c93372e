/*
 * The terminal (see terminal.h).  QEMU's -nographic is the model: the
 * guest's serial port gets the keyboard raw (no echo, no line editing,
 * Ctrl-C and Ctrl-Z as bytes), output keeps its newline translation, and
 * Ctrl-A is the monitor's escape.  Input from a pipe or a file is not a
 * terminal: it is left alone and passes unfiltered, for scripted runs.
 *
 * Every way the run ends must give the terminal back: exit() runs the
 * atexit handler (guest exit, crash report, --timeout, SIGINT, SIGTERM,
 * Ctrl-A x), and the internal-error path, which calls _exit(), calls
 * terminal_restore() itself.
 */
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "host/terminal.h"

#define CTRL_A 0x01

static struct termios saved;
static int saved_fd = -1;

void terminal_restore(void)
{
	if (saved_fd < 0)
		return;
	tcsetattr(saved_fd, TCSANOW, &saved);
	saved_fd = -1;
}

bool terminal_is_raw(void)
{
	return saved_fd >= 0;
}

void terminal_raw(int fd)
{
	static bool registered;
	struct termios t;

	/* In the background a tcsetattr would stop us with SIGTTOU. */
	if (!isatty(fd) || tcgetpgrp(fd) != getpgrp() ||
	    tcgetattr(fd, &saved) != 0)
		return;
	t = saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB)) | CS8;
	t.c_oflag |= OPOST;           /* the guest's "\n" still ends a line */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!registered) {
		atexit(terminal_restore);
		registered = true;
	}
	if (tcsetattr(fd, TCSANOW, &t) == 0)
		saved_fd = fd;
}

size_t terminal_escapes(bool *armed, uint8_t *buf, size_t n,
			enum terminal_action *action)
{
	size_t i, out = 0;

	*action = TERM_NONE;
	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (!*armed) {
			if (c == CTRL_A)
				*armed = true;
			else
				buf[out++] = c;
			continue;
		}
		*armed = false;
		if (c == CTRL_A)
			buf[out++] = c;
		else if (c == 'x' || c == 'X')
			*action = TERM_QUIT;
		else if (c == 'h' || c == 'H' || c == '?')
			*action = TERM_HELP;
		if (*action == TERM_QUIT)
			return out;
	}
	return out;
}
