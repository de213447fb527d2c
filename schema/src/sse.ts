/**
 * Server-Sent Events framing (the WHATWG event-stream format) as a pure reader over text
 * chunks, so the CLI, the extension and the tests read `/runs/:id/events` the same way
 * whatever their transport: feed it decoded text as it arrives, take the complete events.
 */

/** One dispatched event: its `data` lines joined with newlines, and `id`/`event` when sent. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Reads an event stream chunk by chunk; a chunk may end anywhere, even inside a line. */
export class SseReader {
  private pending = '';
  private data: string[] = [];
  private id: string | undefined;
  private event: string | undefined;

  /** Adds decoded text and returns the events it completed (comments and empty events are skipped). */
  push(chunk: string): SseMessage[] {
    this.pending += chunk;
    const out: SseMessage[] = [];
    let nl: number;
    while ((nl = this.pending.search(/\r\n|\r|\n/)) >= 0) {
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (this.pending[nl] === '\r' && nl === this.pending.length - 1) break;
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + (this.pending.startsWith('\r\n', nl) ? 2 : 1));
      const message = this.line(line);
      if (message !== undefined) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      const message = this.data.length > 0 ? { data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}), ...(this.event !== undefined ? { event: this.event } : {}) } : undefined;
      this.data = [];
      this.event = undefined;
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'event') this.event = value;
    return undefined;
  }
}
