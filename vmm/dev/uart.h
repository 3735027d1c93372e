/*
 * A 16550A UART: the guest's console, as COM1 at 0x3f8 on a PC.
 */
#ifndef TRAPEZE_UART_H
#define TRAPEZE_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/irq.h"

struct io_bus;
struct pc;
struct uart;

struct uart *uart_create(int in_fd, int out_fd);
void uart_destroy(struct uart *u);
void uart__register(struct uart *u, struct io_bus *bus, uint16_t base);
/* COM1 on the PC: its ports, IRQ 4, the console (pc->com1). */
int uart__init(struct pc *pc);
/* The line the UART's interrupt drives. */
void uart_set_irq(struct uart *u, struct irq_line irq);
/* Bytes read from the input descriptor pass through fn before the guest
 * sees them: it may drop some (the terminal's escapes) and returns how
 * many are left in buf. */
typedef size_t (*uart_input_fn)(void *opaque, uint8_t *buf, size_t n);
void uart_set_input_filter(struct uart *u, uart_input_fn fn, void *opaque);

/* Bytes the guest sends through a paravirtual console: same stream. */
void uart_output(struct uart *u, const void *buf, size_t len);
/* Write out what is buffered (at exit, at hlt, before monitor messages). */
void uart_flush(struct uart *u);
/* Would the guest take an interrupt for input that arrives now? */
bool uart_wants_input(const struct uart *u);
/* The descriptor the input comes from (for a wait on it). */
int uart_input_fd(const struct uart *u);
/* Poll the input side; raises the interrupt if data arrived. */
void uart_poll_input(struct uart *u);
/* The port access itself (exported for unit tests). */
void uart_io(void *opaque, uint16_t port, unsigned size, bool write,
	     uint32_t *val);

#endif /* TRAPEZE_UART_H */
