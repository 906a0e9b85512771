#!/usr/bin/env node
// The `exitscope` command. Its sources are TypeScript, bundled on first use and whenever they change
// (bundle.mjs), so the command works in a fresh clone after `npm install` with no build step (npm's
// `prepare` builds the core).
import { loadBundled } from './bundle.mjs';

const { main, nodeIo } = await loadBundled('src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), nodeIo());
