// Cycle costs the core charges to the TSC per retired instruction (per iteration for REP strings).
// Compiled by both asc and tsc (constants only), so the model and the UI can show the table.
//
//   everything not listed          COST_DEFAULT
//   MUL, IMUL (all forms)          COST_MUL
//   DIV, IDIV                      COST_DIV
//   MOVS/CMPS/STOS/LODS/SCAS       COST_STRING per element
//   PAUSE                          COST_PAUSE: the spin-wait hint is slow on real cores, and PLE_GAP
//                                  and PLE_WINDOW (128 and 4096 by default) are counted in these cycles
// Exits and the HLT/MWAIT wait cost nothing here: the model accounts for their time.
export const COST_DEFAULT = 1;
export const COST_MUL = 3;
export const COST_DIV = 20;
export const COST_STRING = 2;
export const COST_PAUSE = 40;
