/*
 * trapeze demo: demonstrations built into the monitor.
 */
#ifndef TRAPEZE_DEMO_H
#define TRAPEZE_DEMO_H

#include <stdio.h>

int cmd_demo(int argc, char **argv);
void demo_usage(FILE *f);

#endif
