/*
 * The PC's pair of 8259A interrupt controllers (0x20/0x21, 0xa0/0xa1).
 */
#ifndef TRAPEZE_PIC_H
#define TRAPEZE_PIC_H

#include <stdbool.h>
#include <stdint.h>

struct io_bus;
struct pc;
struct pic;

struct pic *pic_create(void);
void pic_destroy(struct pic *p);
void pic__register(struct pic *p, struct io_bus *bus);
/* The PC's pair at 0x20 and 0xa0, where the lines' router finds it. */
int pic__init(struct pc *pc);

/* A device's interrupt line (IRQ 0-15) goes up or down. */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
/* Is the INTR pin up (an unmasked request outranks what is in service)? */
bool pic_intr(const struct pic *p);
/* The CPU's acknowledge cycle: the vector of the request now in service,
 * or -1 if nothing is pending. */
int pic_ack(struct pic *p);

void pic_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val);

#endif
