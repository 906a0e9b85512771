// The worker entry of bench-config.ts: a worker thread loads the command's bundle for itself (as
// bin/exitscope.mjs does) and measures the configuration it was given.
import { parentPort, workerData } from 'node:worker_threads';
import { loadBundled } from '../../bin/bundle.mjs';

const { runBenchJob } = await loadBundled('src/cli/bench-config.ts');
parentPort.postMessage(await runBenchJob(workerData));
