/** Server-Sent Events framing, as a pure function (the stream itself is read in api.ts). */

/** The complete SSE blocks in `buffer` (up to its last blank line), with their `data:` lines joined. */
export function takeEventBlocks(buffer: string): { data?: string }[] {
  const end = buffer.lastIndexOf('\n\n');
  if (end < 0) return [];
  return buffer
    .slice(0, end)
    .split('\n\n')
    .map((block) => {
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      return data.length > 0 ? { data: data.join('\n') } : {};
    });
}
