/**
 * Preloaded into the worker process by the fleet benchmark (`NODE_OPTIONS=--require …`): once a second, each thread
 * of the process (the main thread with the activities, the thread that runs the workflows) appends its V8 heap figures
 * to the file `FOGPILOT_BENCH_HEAP_LOG` names, so the benchmark can say where the worker's memory went.
 */
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

export interface HeapSample {
  at: number;
  threadId: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

const file = process.env.FOGPILOT_BENCH_HEAP_LOG;
if (file) {
  const mib = (bytes: number) => Math.round((bytes / 1024 ** 2) * 10) / 10;
  setInterval(() => {
    const usage = process.memoryUsage();
    const sample: HeapSample = {
      at: Date.now(),
      threadId,
      rssMiB: mib(usage.rss),
      heapUsedMiB: mib(usage.heapUsed),
      heapTotalMiB: mib(usage.heapTotal),
      externalMiB: mib(usage.external),
    };
    appendFileSync(file, `${JSON.stringify(sample)}\n`);
  }, 1000).unref();
}
