// The worker entry of bench-config.ts: a worker thread does not inherit the command's TypeScript
// loader, so it registers its own (as bin/exitscope.mjs does).
import { tsImport } from 'tsx/esm/api';

await tsImport('./bench-config.ts', import.meta.url);
