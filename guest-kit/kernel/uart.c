/*
 * COM1, a 16550A UART at 0x3f8, the native console.  Output is polled:
 * with the FIFO on, THRE set in the line status means the whole 16-byte
 * transmit FIFO is empty, so one status read lets 16 bytes go (each port
 * access is a trap under Trapeze, and QEMU's UART is always ready).
 */
#include "kernel.h"

#define COM1     TRAPEZE_PORT_COM1
#define THR      0      /* DLL while DLAB is set */
#define IER      1      /* DLM while DLAB is set */
#define FCR      2
#define LCR      3
#define MCR      4
#define LSR      5
#define LCR_DLAB 0x80
#define LCR_8N1  0x03
#define LSR_THRE 0x20
#define FIFO_LEN 16

void uart_init(void)
{
	outb(COM1 + IER, 0);            /* no UART interrupts */
	outb(COM1 + LCR, LCR_DLAB);
	outb(COM1 + THR, 1);            /* divisor 1: 115200 baud */
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, LCR_8N1);
	outb(COM1 + FCR, 0x07);         /* FIFOs on, both cleared */
	outb(COM1 + MCR, 0x03);         /* DTR, RTS */
}

void uart_write(const char *s, size_t n)
{
	while (n) {
		unsigned k = n < FIFO_LEN ? (unsigned)n : FIFO_LEN;
		unsigned spins = 100000;

		/* A UART that never comes ready (none at all reads as 0xff,
		 * which says ready) must not hang the kernel. */
		while (!(inb(COM1 + LSR) & LSR_THRE) && --spins)
			;
		n -= k;
		while (k--)
			outb(COM1 + THR, (uint8_t)*s++);
	}
}
