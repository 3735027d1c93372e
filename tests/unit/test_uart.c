/*
 * The 16550A UART and the port bus it hangs on: each test drives the
 * registers as a guest driver would, through uart_io() or io_port(), with
 * a pipe as the serial input and a temporary file as the serial output,
 * and checks what the PC16550D data sheet says the guest should see.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "dev/uart.h"
#include "dev/io.h"
#include "trapeze/abi.h"

/* Register offsets and bits, from the data sheet (not from uart.c). */
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX    0x02
#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

#define COM1 TRAPEZE_PORT_COM1

static struct uart *u;
static int input_fd = -1;      /* the write end of the UART's input pipe */
static FILE *output;           /* what the UART writes */

static struct {
	unsigned raises, lowers;
	bool level;
} irq;

static void setup(void)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	output = tmpfile();
	ck_assert_ptr_nonnull(output);
	u = uart_create(p[0], fileno(output));
	ck_assert_ptr_nonnull(u);
	input_fd = p[1];
	memset(&irq, 0, sizeof(irq));
}

static uint32_t reg_read(unsigned reg)
{
	uint32_t v = 0xdeadbeef;

	uart_io(u, COM1 + reg, 1, false, &v);
	return v;
}

static void reg_write(unsigned reg, uint8_t v)
{
	uint32_t x = v;

	uart_io(u, COM1 + reg, 1, true, &x);
}

static void send_input(const char *s)
{
	ck_assert_int_eq(write(input_fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Everything the UART has written to its output file so far. */
static const char *written(void)
{
	static char buf[256];
	ssize_t n = pread(fileno(output), buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void record_irq(void *opaque, unsigned line, bool level)
{
	ck_assert_ptr_eq(opaque, &irq);
	ck_assert_uint_eq(line, 4);
	if (level)
		irq.raises++;
	else
		irq.lowers++;
	irq.level = level;
}

/* ---- registers ---- */

START_TEST(test_scratch_register_reads_back_what_was_written)
{
	reg_write(SCR, 0xa5);
	ck_assert_uint_eq(reg_read(SCR), 0xa5);
	reg_write(SCR, 0x5a);
	ck_assert_uint_eq(reg_read(SCR), 0x5a);
}
END_TEST

START_TEST(test_lsr_reports_thr_empty_and_no_data_when_idle)
{
	ck_assert_uint_eq(reg_read(LSR), LSR_THRE | LSR_TEMT);
}
END_TEST

START_TEST(test_dlab_makes_offsets_0_and_1_the_divisor_latch)
{
	reg_write(IER, IER_RDI);
	reg_write(LCR, LCR_DLAB | LCR_8N1);
	reg_write(DLL, 0x01);              /* 115200 baud */
	reg_write(DLM, 0x02);
	ck_assert_uint_eq(reg_read(DLL), 0x01);
	ck_assert_uint_eq(reg_read(DLM), 0x02);
	reg_write(LCR, LCR_8N1);
	/* Neither the transmitter nor IER saw those writes. */
	ck_assert_uint_eq(reg_read(IER), IER_RDI);
	uart_flush(u);
	ck_assert_str_eq(written(), "");
	/* And the latch keeps its value while DLAB is clear. */
	reg_write(LCR, LCR_DLAB | LCR_8N1);
	ck_assert_uint_eq(reg_read(DLL), 0x01);
	ck_assert_uint_eq(reg_read(DLM), 0x02);
}
END_TEST

START_TEST(test_lcr_and_mcr_read_back_what_was_written)
{
	reg_write(LCR, 0x1b);              /* 8E1 */
	ck_assert_uint_eq(reg_read(LCR), 0x1b);
	reg_write(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	ck_assert_uint_eq(reg_read(MCR), MCR_DTR | MCR_RTS | MCR_OUT2);
}
END_TEST

START_TEST(test_msr_in_loopback_connects_dtr_to_dsr_and_rts_to_cts)
{
	/* PC16550D, MCR bit 4: "the four Modem Control inputs are
	 * internally connected to the four Modem Control outputs":
	 * RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD. */
	reg_write(MCR, MCR_LOOP | MCR_DTR);
	ck_assert_uint_eq(reg_read(MSR) & 0xf0, MSR_DSR);
	reg_write(MCR, MCR_LOOP | MCR_RTS);
	ck_assert_uint_eq(reg_read(MSR) & 0xf0, MSR_CTS);
	reg_write(MCR, MCR_LOOP | MCR_OUT1);
	ck_assert_uint_eq(reg_read(MSR) & 0xf0, MSR_RI);
	reg_write(MCR, MCR_LOOP | MCR_OUT2);
	ck_assert_uint_eq(reg_read(MSR) & 0xf0, MSR_DCD);
}
END_TEST

/* ---- transmit ---- */

START_TEST(test_thr_bytes_reach_the_output_after_flush)
{
	reg_write(THR, 'o');
	reg_write(THR, 'k');
	ck_assert_str_eq(written(), "");   /* line-buffered */
	uart_flush(u);
	ck_assert_str_eq(written(), "ok");
}
END_TEST

START_TEST(test_newline_written_to_thr_flushes_the_line_at_once)
{
	reg_write(THR, 'h');
	reg_write(THR, 'i');
	reg_write(THR, '\n');
	ck_assert_str_eq(written(), "hi\n");
}
END_TEST

START_TEST(test_loopback_routes_thr_to_rbr_without_output)
{
	reg_write(MCR, MCR_LOOP);
	reg_write(THR, 'L');
	reg_write(THR, '\n');
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, LSR_DR);
	ck_assert_uint_eq(reg_read(RBR), 'L');
	ck_assert_uint_eq(reg_read(RBR), '\n');
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, 0);
	uart_flush(u);
	ck_assert_str_eq(written(), "");
}
END_TEST

/* ---- receive ---- */

START_TEST(test_input_sets_dr_and_rbr_returns_it_in_order)
{
	send_input("xyz");
	ck_assert_uint_eq(reg_read(LSR), LSR_THRE | LSR_TEMT | LSR_DR);
	ck_assert_uint_eq(reg_read(RBR), 'x');
	ck_assert_uint_eq(reg_read(RBR), 'y');
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, LSR_DR);
	ck_assert_uint_eq(reg_read(RBR), 'z');
	ck_assert_uint_eq(reg_read(LSR), LSR_THRE | LSR_TEMT);
}
END_TEST

START_TEST(test_fcr_bit1_clears_the_receive_fifo)
{
	send_input("ab");
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, LSR_DR);
	reg_write(FCR, FCR_FIFO_ENABLE | FCR_CLEAR_RX);
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, 0);
	send_input("c");
	ck_assert_uint_eq(reg_read(RBR), 'c');   /* not the stale 'a' */
}
END_TEST

/* ---- interrupts ---- */

START_TEST(test_iir_reports_no_interrupt_when_none_is_enabled)
{
	send_input("q");
	reg_write(THR, 'x');
	ck_assert_uint_eq(reg_read(IIR), IIR_NONE);
}
END_TEST

START_TEST(test_iir_reports_thr_empty_with_thri_and_reading_it_acknowledges)
{
	reg_write(IER, IER_THRI);
	ck_assert_uint_eq(reg_read(IIR), IIR_THRI);
	ck_assert_uint_eq(reg_read(IIR), IIR_NONE);
	/* Each byte sent empties THR again and owes a new interrupt. */
	reg_write(THR, 'x');
	ck_assert_uint_eq(reg_read(IIR), IIR_THRI);
	ck_assert_uint_eq(reg_read(IIR), IIR_NONE);
}
END_TEST

START_TEST(test_iir_gives_received_data_priority_over_thr_empty)
{
	reg_write(IER, IER_RDI | IER_THRI);
	send_input("d");
	uart_poll_input(u);
	ck_assert_uint_eq(reg_read(IIR), IIR_RDI);
	ck_assert_uint_eq(reg_read(RBR), 'd');
	/* The THR-empty interrupt was not acknowledged by the RDI read. */
	ck_assert_uint_eq(reg_read(IIR), IIR_THRI);
}
END_TEST

START_TEST(test_iir_shows_the_fifo_bits_once_fifos_are_enabled)
{
	reg_write(FCR, FCR_FIFO_ENABLE);
	ck_assert_uint_eq(reg_read(IIR), IIR_FIFO | IIR_NONE);
}
END_TEST

START_TEST(test_irq_rises_on_input_with_rdi_and_falls_when_rbr_is_drained)
{
	uart_set_irq(u, (struct irq_line){ record_irq, &irq, 4 });
	reg_write(IER, IER_RDI);
	ck_assert_uint_eq(irq.raises, 0);
	send_input("ab");
	uart_poll_input(u);
	ck_assert_uint_eq(irq.raises, 1);
	ck_assert(irq.level);
	ck_assert_uint_eq(reg_read(RBR), 'a');
	ck_assert(irq.level);                     /* 'b' still waits */
	ck_assert_uint_eq(reg_read(RBR), 'b');
	ck_assert_uint_eq(irq.lowers, 1);
	ck_assert(!irq.level);
}
END_TEST

START_TEST(test_irq_stays_low_on_input_without_rdi)
{
	uart_set_irq(u, (struct irq_line){ record_irq, &irq, 4 });
	send_input("a");
	uart_poll_input(u);
	ck_assert_uint_eq(irq.raises, 0);
}
END_TEST

START_TEST(test_iir_read_alone_sees_input_that_arrived)
{
	uart_set_irq(u, (struct irq_line){ record_irq, &irq, 4 });
	reg_write(IER, IER_RDI);
	send_input("z");
	ck_assert_uint_eq(reg_read(IIR), IIR_RDI);   /* no LSR read first */
	ck_assert_uint_eq(irq.raises, 1);
	ck_assert_uint_eq(reg_read(RBR), 'z');
}
END_TEST

/* A filter sees what was read before the guest does, and may drop it. */
static size_t drop_x(void *opaque, uint8_t *buf, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++)
		if (buf[i] != 'x')
			buf[out++] = buf[i];
	return out;
}

START_TEST(test_input_filter_can_drop_bytes)
{
	uart_set_input_filter(u, drop_x, NULL);
	send_input("axbx");
	ck_assert_uint_eq(reg_read(RBR), 'a');
	ck_assert_uint_eq(reg_read(RBR), 'b');
	ck_assert_uint_eq(reg_read(LSR) & LSR_DR, 0);
}
END_TEST

/* ---- the port bus ---- */

static unsigned spy_calls;

static void spy(void *opaque, uint16_t port, unsigned size, bool write,
		uint32_t *val)
{
	spy_calls++;
	if (!write)
		*val = 0;
}

START_TEST(test_unclaimed_port_reads_all_ones_by_size)
{
	struct io_bus bus = { .ndev = 0 };
	uint32_t v;

	v = 0x12345678;
	io_port(&bus, 0x80, 1, false, &v);
	ck_assert_uint_eq(v, 0xff);
	v = 0x12345678;
	io_port(&bus, 0x80, 2, false, &v);
	ck_assert_uint_eq(v, 0xffff);
	v = 0x12345678;
	io_port(&bus, 0x80, 4, false, &v);
	ck_assert_uint_eq(v, 0xffffffff);
}
END_TEST

START_TEST(test_unclaimed_port_ignores_writes)
{
	struct io_bus bus = { .ndev = 0 };
	uint32_t v = 0x42;

	io_register(&bus, COM1, 8, spy, NULL, "spy");
	io_port(&bus, COM1 - 1, 1, true, &v);
	io_port(&bus, COM1 + 8, 1, true, &v);
	ck_assert_uint_eq(spy_calls, 0);
	ck_assert_uint_eq(v, 0x42);
	io_port(&bus, COM1 + 7, 1, true, &v);     /* last port of the range */
	ck_assert_uint_eq(spy_calls, 1);
}
END_TEST

START_TEST(test_io_port_reaches_the_uart_registered_on_the_bus)
{
	struct io_bus bus = { .ndev = 0 };
	uint32_t v = 0x3c;

	uart__register(u, &bus, COM1);
	io_port(&bus, COM1 + SCR, 1, true, &v);
	v = 0;
	io_port(&bus, COM1 + SCR, 1, false, &v);
	ck_assert_uint_eq(v, 0x3c);
	ck_assert_uint_eq(reg_read(SCR), 0x3c);
}
END_TEST

START_TEST(test_io_port_name_names_a_registered_range)
{
	struct io_bus bus = { .ndev = 0 };

	uart__register(u, &bus, COM1);
	io_register(&bus, TRAPEZE_PORT_DEBUG_EXIT, 1, spy, NULL, "debug-exit");
	ck_assert_str_eq(io_port_name(&bus, COM1), "COM1");
	ck_assert_str_eq(io_port_name(&bus, COM1 + 7), "COM1");
	ck_assert_str_eq(io_port_name(&bus, TRAPEZE_PORT_DEBUG_EXIT),
			 "debug-exit");
	ck_assert_ptr_null(io_port_name(&bus, COM1 + 8));
	ck_assert_ptr_null(io_port_name(&bus, COM1 - 1));
}
END_TEST

static Suite *uart_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *t;

	t = tcase_create("registers");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_scratch_register_reads_back_what_was_written);
	tcase_add_test(t, test_lsr_reports_thr_empty_and_no_data_when_idle);
	tcase_add_test(t, test_dlab_makes_offsets_0_and_1_the_divisor_latch);
	tcase_add_test(t, test_lcr_and_mcr_read_back_what_was_written);
	tcase_add_test(t, test_msr_in_loopback_connects_dtr_to_dsr_and_rts_to_cts);
	suite_add_tcase(s, t);

	t = tcase_create("transmit");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_thr_bytes_reach_the_output_after_flush);
	tcase_add_test(t, test_newline_written_to_thr_flushes_the_line_at_once);
	tcase_add_test(t, test_loopback_routes_thr_to_rbr_without_output);
	suite_add_tcase(s, t);

	t = tcase_create("receive");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_input_sets_dr_and_rbr_returns_it_in_order);
	tcase_add_test(t, test_fcr_bit1_clears_the_receive_fifo);
	suite_add_tcase(s, t);

	t = tcase_create("interrupts");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_iir_reports_no_interrupt_when_none_is_enabled);
	tcase_add_test(t,
		test_iir_reports_thr_empty_with_thri_and_reading_it_acknowledges);
	tcase_add_test(t, test_iir_gives_received_data_priority_over_thr_empty);
	tcase_add_test(t, test_iir_shows_the_fifo_bits_once_fifos_are_enabled);
	tcase_add_test(t,
		test_irq_rises_on_input_with_rdi_and_falls_when_rbr_is_drained);
	tcase_add_test(t, test_irq_stays_low_on_input_without_rdi);
	tcase_add_test(t, test_iir_read_alone_sees_input_that_arrived);
	tcase_add_test(t, test_input_filter_can_drop_bytes);
	suite_add_tcase(s, t);

	t = tcase_create("port bus");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_unclaimed_port_reads_all_ones_by_size);
	tcase_add_test(t, test_unclaimed_port_ignores_writes);
	tcase_add_test(t, test_io_port_reaches_the_uart_registered_on_the_bus);
	tcase_add_test(t, test_io_port_name_names_a_registered_range);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(uart_suite)
