/*
 * The CRT controller of a colour (CGA/VGA) text display: index at 0x3d4,
 * data at 0x3d5.  Kernels keep the cursor position there.
 */
#ifndef TRAPEZE_CRTC_H
#define TRAPEZE_CRTC_H

#include "dev/io.h"

#define CRTC_INDEX 0x3d4
#define CRTC_DATA 0x3d5

struct crtc;
struct pc;

struct crtc *crtc_create(void);
void crtc_destroy(struct crtc *c);
void crtc__register(struct crtc *c, struct io_bus *bus);
int crtc__init(struct pc *pc);

#endif
