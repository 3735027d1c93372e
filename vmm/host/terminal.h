/*
 * The user's terminal while a guest runs: raw mode, so that every key
 * (Ctrl-C included) reaches the guest's serial port, and QEMU's Ctrl-A
 * escapes for the user to talk to the monitor instead.
 */
#ifndef TRAPEZE_TERMINAL_H
#define TRAPEZE_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* If fd is a terminal and we are in its foreground, put it in raw mode
 * until terminal_restore() (registered with atexit too). */
void terminal_raw(int fd);
/* Put the terminal back as it was.  Async-signal-safe; does nothing the
 * second time, or if terminal_raw() changed nothing. */
void terminal_restore(void);
bool terminal_is_raw(void);

enum terminal_action { TERM_NONE, TERM_QUIT, TERM_HELP };

/* Ctrl-A escapes in n bytes read from the terminal, filtered in place:
 * Ctrl-A Ctrl-A is one Ctrl-A, Ctrl-A x asks to quit, Ctrl-A h for help,
 * Ctrl-A and anything else are dropped.  *armed carries a Ctrl-A that
 * ended one read over to the next.  Returns the bytes left. */
size_t terminal_escapes(bool *armed, uint8_t *buf, size_t n,
			enum terminal_action *action);

/* Output processing stays on in raw mode: "\n" is enough. */
#define TERMINAL_HELP \
	"\ntrapeze: Ctrl-A x  end the run\n" \
	"trapeze: Ctrl-A h  this help\n" \
	"trapeze: Ctrl-A Ctrl-A  send Ctrl-A to the guest\n"

#endif
