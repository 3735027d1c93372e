/*
 * The PC's real-time clock and CMOS memory (Motorola MC146818A data
 * sheet): index port 0x70, data port 0x71; the time of day from the
 * host's clock, in BCD or binary and 12- or 24-hour form as register B
 * asks; register A's update-in-progress bit in the last 244 us of each
 * second; register C's update-ended and alarm flags; register D's
 * valid-RAM bit; the other bytes plain memory.  Its interrupt (IRQ 8)
 * is not raised: register C reports what would have raised it.
 */
#ifndef TRAPEZE_RTC_H
#define TRAPEZE_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71

struct pc;
struct rtc;
struct io_bus;

/* now_ns: nanoseconds since the epoch (tests pass their own clock). */
struct rtc *rtc_create(uint64_t (*now_ns)(void));
void rtc_destroy(struct rtc *r);
void rtc__register(struct rtc *r, struct io_bus *bus);
/* The CMOS clock at 0x70/0x71, on the host's time of day. */
int rtc__init(struct pc *pc);
void rtc_io(void *opaque, uint16_t port, unsigned size, bool write,
	    uint32_t *val);
/* The host's wall clock, for rtc_create. */
uint64_t rtc_host_clock(void);

#endif
