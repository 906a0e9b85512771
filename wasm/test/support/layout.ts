// Where a differential case lives. The same numbers are guest-physical addresses in the core's RAM
// and virtual addresses in the native harness, which maps the window 0x100000-0x3fffff at the same
// place (wasm/test/native/harness.c), so the same bytes run unchanged on both sides.

export const RAM_BYTES = 0x40_0000; // the core's RAM covers the whole window

export const CODE_GPA = 0x10_0000;
export const CODE_MAX = 0x1_0000;

/** Memory operands stay inside this buffer; the base register points at its middle. */
export const SCRATCH_GPA = 0x20_0000;
export const SCRATCH_SIZE = 512;
export const SCRATCH_MID = SCRATCH_GPA + SCRATCH_SIZE / 2;

/**
 * RSP starts here; the compared stack region is STACK_REACH bytes either side. Programs push or pop
 * at most MAX_STACK_DEPTH bytes, so an RSP-relative access (±128) stays inside the region too.
 */
export const STACK_TOP = 0x30_0800;
export const STACK_REACH = 512;
export const MAX_STACK_DEPTH = 240;
