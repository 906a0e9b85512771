// The page's one link to the simulation worker: starts it, numbers requests, hands replies on, and
// turns every way a worker can fail (an exception it reports, an error event, an unreadable message)
// into one `crashed` call, after which the owner restarts it.
import { isReply, type Reply, type Request } from '../model/worker/protocol';

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
export type Outgoing = WithoutSeq<Request>;

export interface WorkerEvents {
  reply(r: Reply): void;
  crashed(message: string, detail?: string): void;
}

export class WorkerClient {
  private worker: Worker | null = null;
  private seq = 0;

  constructor(private readonly on: WorkerEvents) {}

  start(): void {
    // Written literally, as Vite needs it to bundle the worker (research/toolchain.md).
    const w = new Worker(new URL('../model/worker/worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent) => {
      if (w !== this.worker) return; // a message from a worker already replaced
      if (!isReply(e.data)) return this.fail('the worker sent a message this page does not understand');
      if (e.data.type === 'crashed') return this.fail(e.data.message, e.data.detail);
      this.on.reply(e.data);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // shown in the page, not as a console error
      if (w === this.worker) this.fail(e.message || 'the simulation worker could not start');
    };
    w.onmessageerror = () => this.fail('a message from the worker could not be read');
    this.worker = w;
  }

  /** Sends a request and returns its sequence number. */
  send(req: Outgoing): number {
    const seq = ++this.seq;
    this.worker?.postMessage({ ...req, seq } as Request);
    return seq;
  }

  /** Ends the worker (whatever it is doing) and starts a fresh one. */
  restart(): void {
    this.stop();
    this.start();
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private fail(message: string, detail?: string): void {
    this.stop();
    this.on.crashed(message, detail);
  }
}
