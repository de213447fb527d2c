import type { ServerResponse } from 'node:http';

/** How often an idle stream gets a comment line, so proxies and clients keep it open. */
const HEARTBEAT_MS = 15_000;

/** One open Server-Sent Events response. */
export interface SseStream {
  /** Writes an event; `id` becomes the client's Last-Event-ID on reconnect. */
  send(event: { id?: number; event?: string; data: unknown }): void;
  end(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

/**
 * The server's open event streams, so shutdown can end them cleanly instead of waiting
 * on connections that never close by themselves.
 */
export class SseStreams {
  private readonly open = new Set<SseStream>();

  /** Starts an event stream on a raw response (the route has hijacked it). */
  start(raw: ServerResponse): SseStream {
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    });
    raw.write(': cellgraph events\n\n');
    const closers: (() => void)[] = [];
    let closed = false;
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.open.delete(stream);
      for (const fn of closers) fn();
    };
    const stream: SseStream = {
      send({ id, event, data }) {
        if (closed) return;
        let text = '';
        if (id !== undefined) text += `id: ${id}\n`;
        if (event !== undefined) text += `event: ${event}\n`;
        text += `data: ${JSON.stringify(data)}\n\n`;
        raw.write(text);
      },
      end() {
        if (!closed) raw.end();
        close();
      },
      get closed() {
        return closed;
      },
      onClose(fn) {
        closers.push(fn);
      }
    };
    raw.on('close', close);
    this.open.add(stream);
    return stream;
  }

  /** Ends every open stream (shutdown). */
  endAll(): void {
    for (const s of [...this.open]) s.end();
  }
}
