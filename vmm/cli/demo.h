/*
 * trapeze demo: demonstrations built into the monitor.
 */
#ifndef TRAPEZE_DEMO_H
#define TRAPEZE_DEMO_H

#include <stdio.h>

#include <stdbool.h>

int cmd_demo(int argc, char **argv);
/* demo-techniques.c: `trapeze demo techniques` (qemu: its reference
 * row too); the exit status. */
int demo_techniques(bool qemu);
void demo_usage(FILE *f);

#endif
