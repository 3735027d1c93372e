/*
 * The 16550A UART (National Semiconductor PC16550D data sheet; QEMU's
 * serial.c is the behaviour guests are used to).  Output goes to a file
 * descriptor, buffered by line; input comes from another, read without
 * blocking when the guest looks at the line status or receive buffer.
 *
 * Registers (offset from the base port; DLAB is LCR bit 7):
 *   0 RBR (read) / THR (write)  or DLL when DLAB
 *   1 IER                       or DLM when DLAB
 *   2 IIR (read) / FCR (write)
 *   3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trapeze/abi.h"

#include "dev/io.h"
#include "dev/pc.h"
#include "dev/uart.h"

#define IER_RDI   0x01   /* receive data interrupt */
#define IER_THRI  0x02   /* transmitter empty interrupt */
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define LCR_DLAB  0x80
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MCR_LOOP  0x10
#define MSR_DEFAULT 0xb0  /* DCD, DSR, CTS */

#define RX_SIZE 64
#define TX_SIZE 4096

struct uart {
	int in_fd, out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_irq;            /* THR-empty interrupt owed */
	bool in_eof;
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_len;
	uint8_t tx[TX_SIZE];
	size_t tx_len;
	struct irq_line irq;
	bool irq_level;
	uart_input_fn filter;
	void *filter_opaque;
};

struct uart *uart_create(int in_fd, int out_fd)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->in_fd = in_fd;
	u->out_fd = out_fd;
	u->dll = 12;   /* 9600 baud, as after a BIOS */
	u->lcr = 0x03; /* 8N1 */
	return u;
}

void uart_destroy(struct uart *u)
{
	if (u)
		uart_flush(u);
	free(u);
}

void uart_set_irq(struct uart *u, struct irq_line irq)
{
	u->irq = irq;
}

void uart_set_input_filter(struct uart *u, uart_input_fn fn, void *opaque)
{
	u->filter = fn;
	u->filter_opaque = opaque;
}

void uart_flush(struct uart *u)
{
	size_t done = 0;

	while (done < u->tx_len) {
		ssize_t n = write(u->out_fd, u->tx + done, u->tx_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;   /* output closed: the guest cannot tell */
		done += n;
	}
	u->tx_len = 0;
}

static void tx_byte(struct uart *u, uint8_t c)
{
	if (u->tx_len == TX_SIZE)
		uart_flush(u);
	u->tx[u->tx_len++] = c;
	if (c == '\n')
		uart_flush(u);
}

void uart_output(struct uart *u, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--)
		tx_byte(u, *p++);
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_len)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_irq)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void update_irq(struct uart *u)
{
	bool level = !(iir(u) & IIR_NONE);

	if (level != u->irq_level)
		irq_line_set(&u->irq, level);
	u->irq_level = level;
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_len < RX_SIZE)
		u->rx[(u->rx_head + u->rx_len++) % RX_SIZE] = c;
}

bool uart_wants_input(const struct uart *u)
{
	return (u->ier & IER_RDI) && u->in_fd >= 0 && !u->in_eof &&
	       u->rx_len < RX_SIZE;
}

void uart_poll_input(struct uart *u)
{
	struct pollfd p = { .fd = u->in_fd, .events = POLLIN };
	uint8_t buf[RX_SIZE];
	ssize_t n, i;

	if (u->in_fd < 0 || u->in_eof || u->rx_len == RX_SIZE)
		return;
	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
		return;
	n = read(u->in_fd, buf, RX_SIZE - u->rx_len);
	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			u->in_eof = true;
		return;
	}
	if (u->filter)
		n = (ssize_t)u->filter(u->filter_opaque, buf, (size_t)n);
	for (i = 0; i < n; i++)
		rx_push(u, buf[i]);
	update_irq(u);
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case 0:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		uart_poll_input(u);
		if (!u->rx_len)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_SIZE;
		u->rx_len--;
		update_irq(u);
		return v;
	case 1:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case 2:
		uart_poll_input(u);   /* IIR says what has arrived, as LSR does */
		v = iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI) {
			u->thr_irq = false;
			update_irq(u);
		}
		return v;
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		uart_flush(u);
		uart_poll_input(u);
		return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
	case 6:
		/* Loopback wires RTS to CTS, DTR to DSR, OUT1 to RI and
		 * OUT2 to DCD (PC16550D data sheet, MCR bit 4). */
		return (u->mcr & MCR_LOOP) ? (uint8_t)((u->mcr & 0x02) << 3 |
						       (u->mcr & 0x01) << 5 |
						       (u->mcr & 0x0c) << 4)
					   : MSR_DEFAULT;
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, v);
		else
			tx_byte(u, v);
		u->thr_irq = true;   /* the byte left at once */
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling THRI with an empty THR raises it at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_irq = true;
		u->ier = v & 0x0f;
		break;
	case 2:
		u->fcr = v & 0xc9;
		if (v & 2)            /* clear receive FIFO */
			u->rx_len = 0;
		break;
	case 3:
		u->lcr = v;
		return;
	case 4:
		u->mcr = v & 0x1f;
		return;
	case 7:
		u->scr = v;
		return;
	default:
		return;   /* LSR and MSR are read-only */
	}
	update_irq(u);
}

void uart_io(void *opaque, uint16_t port, unsigned size, bool write,
	     uint32_t *val)
{
	struct uart *u = opaque;
	unsigned reg = port & 7;

	/* Wider accesses touch one register: the UART is byte-wide. */
	if (write)
		uart_write(u, reg, (uint8_t)*val);
	else
		*val = uart_read(u, reg);
}

static const char *reg_name(unsigned off, bool write)
{
	static const char *const out[8] = {
		"THR", "IER", "FCR", "LCR", "MCR", "LSR", "MSR", "SCR" };
	static const char *const in[8] = {
		"RBR", "IER", "IIR", "LCR", "MCR", "LSR", "MSR", "SCR" };

	return (write ? out : in)[off & 7];
}

void uart__register(struct uart *u, struct io_bus *bus, uint16_t base)
{
	io_register(bus, base, 8, uart_io, u, "COM1");
	io_name_registers(bus, base, reg_name);
}

int uart__init(struct pc *pc)
{
	struct uart *u = uart_create(pc->console_in, pc->console_out);

	if (!u)
		return -1;
	uart__register(u, &pc->io, TRAPEZE_PORT_COM1);
	uart_set_irq(u, irq_router_line(&pc->lines, TRAPEZE_IRQ_COM1));
	if (pc->console_filter)
		uart_set_input_filter(u, pc->console_filter, pc->console_ctx);
	pc->com1 = u;
	return 0;
}

int uart_input_fd(const struct uart *u)
{
	return u->in_fd;
}
