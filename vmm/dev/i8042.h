/*
 * The 8042 keyboard controller of a PC: data at 0x60, status and commands
 * at 0x64, keyboard interrupts on IRQ 1.  No keys are ever pressed (the
 * console is COM1), but the controller and the keyboard answer what
 * kernels ask them at start-up.
 */
#ifndef TRAPEZE_I8042_H
#define TRAPEZE_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/io.h"
#include "dev/irq.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_IRQ 1

struct i8042;
struct pc;

/* irq: IRQ 1; reset: the guest pulsed the CPU's reset line. */
struct i8042 *i8042_create(struct irq_line irq, void (*reset)(void *opaque),
			   void *opaque);
/* The PC's keyboard controller at 0x60/0x64, IRQ 1; its reset line
 * ends the run through the board's reset. */
int i8042__init(struct pc *pc);
void i8042_destroy(struct i8042 *k);
void i8042__register(struct i8042 *k, struct io_bus *bus);

#endif
