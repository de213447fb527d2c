/** Server-Sent Events framing as the server writes it (comments, ids, data), split anywhere across reads. */
import { SseReader } from '../sse';

it('returns only complete events, with their ids and data, skipping comments', () => {
  const reader = new SseReader();
  expect(reader.push(': cellgraph events\n\nid: 0\ndata: {"seq":0}\n\nid: 1\ndata: {"se')).toEqual([{ id: '0', data: '{"seq":0}' }]);
  expect(reader.push('q":1}\n')).toEqual([]);
  expect(reader.push('\n')).toEqual([{ id: '1', data: '{"seq":1}' }]);
});

it('joins multi-line data and reads CRLF and CR line ends as the SSE spec says', () => {
  expect(new SseReader().push('data: a\ndata:b\n\n')).toEqual([{ data: 'a\nb' }]);
  const reader = new SseReader();
  expect(reader.push('event: x\r\ndata: 1\r')).toEqual([]);
  expect(reader.push('\n\r\n')).toEqual([{ event: 'x', data: '1' }]);
  // A final lone CR may be half of a CRLF: the event is complete once the next character arrives.
  expect(new SseReader().push('data: 2\r\r:')).toEqual([{ data: '2' }]);
});

it('gives the same events whatever the chunking', () => {
  const text = ': hi\n\nid: 7\ndata: {"a":1}\n\nid: 8\ndata: x\ndata: y\n\n';
  const whole = new SseReader().push(text);
  const reader = new SseReader();
  const bytewise = [...text].flatMap((c) => reader.push(c));
  expect(bytewise).toEqual(whole);
  expect(whole).toEqual([{ id: '7', data: '{"a":1}' }, { id: '8', data: 'x\ny' }]);
});
