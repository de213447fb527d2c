/** The executor's cut of a batch process's output at the elements' end markers (element-batches.ts). */
import { elementEndMarker, elementEndPrefix } from '../../task-entry-protocol';
import { DEFAULT_ELEMENTS_PER_PROCESS, MarkedStream, elementsPerProcessFromEnv } from '../element-batches';

const NONCE = '0123456789abcdef0123';

function cut(chunks: string[]): (string | boolean)[] {
  const seen: (string | boolean)[] = [];
  const stream = new MarkedStream(elementEndPrefix(NONCE), (text) => seen.push(text), (more) => seen.push(more));
  for (const c of chunks) stream.push(c);
  return seen;
}

/** Joins adjacent text pieces: where a chunk boundary fell does not matter to a log. */
function joined(seen: (string | boolean)[]): (string | boolean)[] {
  const out: (string | boolean)[] = [];
  for (const s of seen) {
    if (typeof s === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += s;
    else out.push(s);
  }
  return out;
}

it('gives each element the text before its marker, and the marker says whether the process goes on', () => {
  const all = `a\n${elementEndMarker(NONCE, true)}b\nc${elementEndMarker(NONCE, false)}`;
  expect(cut([all])).toEqual(['a\n', true, 'b\nc', false]);
});

it('finds a marker split across chunks anywhere, holding back only what could start one', () => {
  const all = `first${elementEndMarker(NONCE, true)}second\u0000not a marker${elementEndMarker(NONCE, true)}`;
  for (let a = 1; a < all.length; a++) {
    for (const b of [a + 1, a + 7, a + 40]) {
      if (b >= all.length) continue;
      expect(joined(cut([all.slice(0, a), all.slice(a, b), all.slice(b)]))).toEqual(['first', true, 'second\u0000not a marker', true]);
    }
  }
});

it('passes text on at once when it cannot be the start of a marker', () => {
  expect(cut(['plain output'])).toEqual(['plain output']);
  expect(cut(['held \u0000cellgraph-elem'])).toEqual(['held ']);
});

it('ignores a marker with another process nonce (user code cannot end an element)', () => {
  expect(joined(cut([`x${elementEndMarker('ffffffffffffffffffff', true)}y`]))).toEqual([`x${elementEndMarker('ffffffffffffffffffff', true)}y`]);
});

it('reads the elements per process from CELLGRAPH_ELEMENTS_PER_PROCESS, refusing anything but a positive whole number', () => {
  expect(elementsPerProcessFromEnv({})).toBe(DEFAULT_ELEMENTS_PER_PROCESS);
  expect(elementsPerProcessFromEnv({ CELLGRAPH_ELEMENTS_PER_PROCESS: '1' })).toBe(1);
  expect(elementsPerProcessFromEnv({ CELLGRAPH_ELEMENTS_PER_PROCESS: '250' })).toBe(250);
  for (const bad of ['0', '-3', '1.5', 'many']) expect(() => elementsPerProcessFromEnv({ CELLGRAPH_ELEMENTS_PER_PROCESS: bad })).toThrow(/CELLGRAPH_ELEMENTS_PER_PROCESS must be a whole number/);
});
