#!/bin/sh
# The Popek-Goldberg demonstration holds: with the scanner every row
# matches real CPL 0 (QEMU); under pure trap-and-emulate exactly the rows
# this host does not trap are wrong.  Skipped (77) without QEMU.
builddir=${builddir:-.}
exec "$builddir/trapeze" demo popek-goldberg --check
