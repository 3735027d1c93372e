/*
 * The MC146818A real-time clock (see rtc.h).  No state ticks: the time
 * registers are computed from the clock at each read, plus the offset
 * the guest set by writing them; register C's flags from the seconds
 * that passed since it was last read.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/io.h"
#include "dev/pc.h"
#include "dev/rtc.h"

enum {
	R_SEC = 0x00, R_SEC_ALARM = 0x01, R_MIN = 0x02, R_MIN_ALARM = 0x03,
	R_HOUR = 0x04, R_HOUR_ALARM = 0x05, R_WDAY = 0x06, R_MDAY = 0x07,
	R_MON = 0x08, R_YEAR = 0x09, R_A = 0x0a, R_B = 0x0b, R_C = 0x0c,
	R_D = 0x0d, R_CENTURY = 0x32, NBYTES = 128,
};

#define A_UIP      0x80
#define B_SET      0x80
#define B_PIE      0x40
#define B_AIE      0x20
#define B_UIE      0x10
#define B_BINARY   0x04
#define B_24H      0x02
#define C_IRQF     0x80
#define C_PF       0x40
#define C_AF       0x20
#define C_UF       0x10
#define D_VRT      0x80
#define DONT_CARE  0xc0           /* alarm bytes 0xc0-0xff match any */
#define UIP_NS     244000ull      /* the update cycle's warning time */
#define NS         1000000000ull

struct rtc {
	uint64_t (*now_ns)(void);
	int64_t offset;               /* guest time minus host time, s */
	uint64_t c_read;              /* the second register C last saw */
	uint8_t index;
	uint8_t ram[NBYTES];
};

uint64_t rtc_host_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static int64_t guest_seconds(const struct rtc *r)
{
	return (int64_t)(r->now_ns() / NS) + r->offset;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	return (r->ram[R_B] & B_BINARY) ? (uint8_t)v
					: (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	return (r->ram[R_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_reg(const struct rtc *r, unsigned h)
{
	unsigned h12 = h % 12 ? h % 12 : 12;

	if (r->ram[R_B] & B_24H)
		return to_reg(r, h);
	return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned hour_of(const struct rtc *r, uint8_t v)
{
	unsigned h;

	if (r->ram[R_B] & B_24H)
		return from_reg(r, v);
	h = from_reg(r, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

static void broken_down(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	gmtime_r(&tt, tm);
}

/* Does second t match the alarm (each byte a value or "don't care")? */
static bool alarm_at(const struct rtc *r, int64_t t)
{
	struct tm tm;

	broken_down(t, &tm);
	return (r->ram[R_SEC_ALARM] >= DONT_CARE ||
		from_reg(r, r->ram[R_SEC_ALARM]) == (unsigned)tm.tm_sec) &&
	       (r->ram[R_MIN_ALARM] >= DONT_CARE ||
		from_reg(r, r->ram[R_MIN_ALARM]) == (unsigned)tm.tm_min) &&
	       (r->ram[R_HOUR_ALARM] >= DONT_CARE ||
		hour_of(r, r->ram[R_HOUR_ALARM]) == (unsigned)tm.tm_hour);
}

/* Register C: what the seconds since its last read set (an update each,
 * the alarm at a matching one); reading clears it. */
static uint8_t read_c(struct rtc *r)
{
	int64_t now = guest_seconds(r), t;
	uint8_t c = 0;

	if (!(r->ram[R_B] & B_SET) && (uint64_t)now != r->c_read) {
		c |= C_UF;
		/* A day holds every alarm there is. */
		for (t = now; t > (int64_t)r->c_read && t > now - 86400; t--)
			if (alarm_at(r, t)) {
				c |= C_AF;
				break;
			}
	}
	r->c_read = (uint64_t)now;
	if (((c & C_AF) && (r->ram[R_B] & B_AIE)) ||
	    ((c & C_UF) && (r->ram[R_B] & B_UIE)) ||
	    ((c & C_PF) && (r->ram[R_B] & B_PIE)))
		c |= C_IRQF;
	return c;
}

static uint8_t read_reg(struct rtc *r, uint8_t i)
{
	struct tm tm;

	broken_down(guest_seconds(r), &tm);
	switch (i) {
	case R_SEC: return to_reg(r, (unsigned)tm.tm_sec);
	case R_MIN: return to_reg(r, (unsigned)tm.tm_min);
	case R_HOUR: return hour_reg(r, (unsigned)tm.tm_hour);
	case R_WDAY: return to_reg(r, (unsigned)tm.tm_wday + 1);
	case R_MDAY: return to_reg(r, (unsigned)tm.tm_mday);
	case R_MON: return to_reg(r, (unsigned)tm.tm_mon + 1);
	case R_YEAR: return to_reg(r, (unsigned)tm.tm_year % 100);
	case R_CENTURY: return to_reg(r, (unsigned)(tm.tm_year + 1900) / 100);
	case R_A:
		if (!(r->ram[R_B] & B_SET) &&
		    r->now_ns() % NS >= NS - UIP_NS)
			return r->ram[R_A] | A_UIP;
		return r->ram[R_A];
	case R_C: return read_c(r);
	case R_D: return D_VRT;
	}
	return r->ram[i];
}

/* A write to a time register sets the guest's clock: the offset moves
 * so that the field now reads what was written. */
static void write_reg(struct rtc *r, uint8_t i, uint8_t v)
{
	int64_t now = guest_seconds(r);
	struct tm tm;
	time_t set;

	switch (i) {
	case R_A:
		r->ram[R_A] = v & ~A_UIP;
		return;
	case R_C: case R_D:
		return;                   /* read-only */
	case R_SEC: case R_MIN: case R_HOUR: case R_MDAY: case R_MON:
	case R_YEAR: case R_CENTURY:
		break;
	default:
		r->ram[i] = v;
		return;
	}
	broken_down(now, &tm);
	switch (i) {
	case R_SEC: tm.tm_sec = (int)from_reg(r, v); break;
	case R_MIN: tm.tm_min = (int)from_reg(r, v); break;
	case R_HOUR: tm.tm_hour = (int)hour_of(r, v); break;
	case R_MDAY: tm.tm_mday = (int)from_reg(r, v); break;
	case R_MON: tm.tm_mon = (int)from_reg(r, v) - 1; break;
	case R_YEAR:
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 +
			     (int)from_reg(r, v) - 1900;
		break;
	case R_CENTURY:
		tm.tm_year = (int)from_reg(r, v) * 100 + tm.tm_year % 100 -
			     1900;
		break;
	}
	set = timegm(&tm);
	r->offset += (int64_t)set - now;
}

void rtc_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val)
{
	struct rtc *r = opaque;

	(void)size;
	if (port == RTC_INDEX_PORT) {
		if (write)
			r->index = *val & 0x7f;   /* bit 7 masks NMIs */
		else
			*val = 0xff;             /* write-only on a PC */
		return;
	}
	if (write)
		write_reg(r, r->index, (uint8_t)*val);
	else
		*val = read_reg(r, r->index);
}

struct rtc *rtc_create(uint64_t (*now_ns)(void))
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->now_ns = now_ns;
	r->ram[R_A] = 0x26;               /* 32.768 kHz, 1024 Hz periodic */
	r->ram[R_B] = B_24H;              /* as a BIOS leaves it */
	r->c_read = now_ns() / NS;
	return r;
}

void rtc_destroy(struct rtc *r)
{
	free(r);
}

void rtc__register(struct rtc *r, struct io_bus *bus)
{
	io_register(bus, RTC_INDEX_PORT, 2, rtc_io, r, "RTC/CMOS");
}

int rtc__init(struct pc *pc)
{
	struct rtc *r = rtc_create(rtc_host_clock);

	if (!r)
		return -1;
	rtc__register(r, &pc->io);
	return 0;
}
