#!/usr/bin/env node
// The `exitscope` command. The sources are TypeScript, run through tsx's loader, so the command
// works in a fresh clone after `npm install` with no build step (npm's `prepare` builds the core).
import { tsImport } from 'tsx/esm/api';

const { main, nodeIo } = await tsImport('../src/cli/main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2), nodeIo());
