import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { JsonValue } from './codecs/value-codec';
import { currentRun } from './runtime';

/** tslab's Display interface: rich outputs for the current cell. */
export interface Display {
  javascript(s: string): void;
  html(s: string): void;
  markdown(s: string): void;
  latex(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void;
  gif(b: Uint8Array): void;
  pdf(b: Uint8Array): void;
  text(s: string): void;
  raw(contentType: string, b: string | Uint8Array): void;
}

/** tslab's display module, when this code runs inside the tslab kernel. */
function tslabInKernel(): { display: Display; newDisplay(): Display } | undefined {
  // The kernel loads tslab/dist/jupyter.js; use that very copy (another copy is not wired to the kernel).
  const jupyter = Object.keys(require.cache).find((k) => k.endsWith(`${path.sep}tslab${path.sep}dist${path.sep}jupyter.js`));
  if (jupyter === undefined) return undefined;
  return require(path.join(path.dirname(jupyter), 'public.js')) as { display: Display; newDisplay(): Display };
}

class RunDisplay implements Display {
  constructor(private readonly id?: string) {}
  javascript(s: string) {
    this.raw('text/javascript', s);
  }
  html(s: string) {
    this.raw('text/html', s);
  }
  markdown(s: string) {
    this.raw('text/markdown', s);
  }
  latex(s: string) {
    this.raw('text/latex', s);
  }
  svg(s: string) {
    this.raw('image/svg+xml', s);
  }
  png(b: Uint8Array) {
    this.raw('image/png', b);
  }
  jpeg(b: Uint8Array) {
    this.raw('image/jpeg', b);
  }
  gif(b: Uint8Array) {
    this.raw('image/gif', b);
  }
  pdf(b: Uint8Array) {
    this.raw('application/pdf', b);
  }
  text(s: string) {
    this.raw('text/plain', s);
  }
  raw(contentType: string, b: string | Uint8Array): void {
    // Binary payloads travel base64-encoded, as Jupyter's display_data requires.
    const value: JsonValue = typeof b === 'string' ? b : Buffer.from(b).toString('base64');
    const ctx = currentRun();
    if (ctx) {
      ctx.display({ data: { [contentType]: value }, metadata: {}, displayId: this.id });
      return;
    }
    const kernel = tslabInKernel();
    if (kernel) {
      (this.id ? kernelDisplayFor(this.id, kernel) : kernel.display).raw(contentType, b);
      return;
    }
    console.log(typeof b === 'string' ? b : `[${contentType}, ${b.length} bytes]`);
  }
}

const kernelDisplays = new Map<string, Display>();
function kernelDisplayFor(id: string, kernel: { newDisplay(): Display }): Display {
  let d = kernelDisplays.get(id);
  if (!d) {
    d = kernel.newDisplay();
    kernelDisplays.set(id, d);
  }
  return d;
}

/**
 * Rich output for the current cell, API-compatible with tslab's `display`: in the tslab
 * kernel it shows in the notebook; in a run it is recorded into the executed notebook.
 */
export const display: Display = new RunDisplay();

/** A display that later calls update in place (progress bars, live tables), like tslab's newDisplay(). */
export function newDisplay(): Display {
  return new RunDisplay(randomBytes(8).toString('hex'));
}
