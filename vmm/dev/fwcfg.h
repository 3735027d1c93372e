/*
 * QEMU's firmware configuration device, traditional I/O interface: a
 * 16-bit item selector at port 0x510 and a byte-wide data port at 0x511
 * (QEMU docs/specs/fw_cfg.rst).  Guests written for QEMU (kvm-unit-tests)
 * ask it for the number of CPUs and the RAM size.
 */
#ifndef TRAPEZE_FWCFG_H
#define TRAPEZE_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#define FWCFG_PORT 0x510

/* Items (QEMU's FW_CFG_*). */
#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID        0x01
#define FWCFG_UUID      0x02
#define FWCFG_RAM_SIZE  0x03
#define FWCFG_NOGRAPHIC 0x04
#define FWCFG_NB_CPUS   0x05
#define FWCFG_MAX_CPUS  0x0f
#define FWCFG_FILE_DIR  0x19

struct fwcfg;
struct pc;
struct io_bus;

struct fwcfg *fwcfg_create(uint64_t ram_size, unsigned ncpus);
void fwcfg_destroy(struct fwcfg *f);
void fwcfg__register(struct fwcfg *f, struct io_bus *bus);
/* QEMU's fw_cfg at 0x510: one CPU and the RAM size. */
int fwcfg__init(struct pc *pc);
void fwcfg_io(void *opaque, uint16_t port, unsigned size, bool write,
	      uint32_t *val);

#endif
