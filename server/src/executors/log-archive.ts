import type { ArtifactStore } from '../stores';

/**
 * A task attempt's own copy of its output, filed in the artifact store while it runs.
 * Pods are garbage-collected and the API server's log endpoint needs a kubelet, so on
 * Kubernetes the runner archives its log itself: flushed every `intervalMs` while output
 * arrives (executors follow it there for live logs) and once more at the end.
 */
export class LogArchive {
  private text = '';
  private flushed = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private restore?: () => void;

  constructor(
    private readonly store: ArtifactStore,
    private readonly key: string,
    private readonly intervalMs = 1000
  ) {}

  /** Tees process.stdout and process.stderr into the archive (output still reaches the container's streams). */
  start(): void {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((s) => s.write);
    streams.forEach((stream, i) => {
      const original = originals[i];
      stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
        this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
    });
    this.restore = () => streams.forEach((s, i) => (s.write = originals[i]));
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes what is new since the last flush (the whole log: store objects are replaced, not appended). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.text.length === this.flushed) return;
      const length = this.text.length;
      // A store that is briefly unavailable must not fail the task: the final flush retries.
      await this.store.putFile(this.key, this.text).then(
        () => (this.flushed = length),
        () => undefined
      );
    });
    return this.writing;
  }

  /** Stops teeing and files the complete log. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.restore?.();
    await this.flush();
  }
}
