/** Server-Sent Events framing as the server writes it (comments, ids, data), split across reads. */
import { takeEventBlocks } from '../sse';

it('returns only complete blocks, with their data, skipping comments', () => {
  const stream = ': cellgraph events\n\nid: 0\ndata: {"seq":0}\n\nid: 1\ndata: {"se';
  expect(takeEventBlocks(stream)).toEqual([{}, { data: '{"seq":0}' }]);
  expect(takeEventBlocks('id: 1\ndata: {"se')).toEqual([]);
});

it('joins multi-line data as the SSE spec says', () => {
  expect(takeEventBlocks('data: a\ndata:b\n\n')).toEqual([{ data: 'a\nb' }]);
});
