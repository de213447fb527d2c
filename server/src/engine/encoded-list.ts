/**
 * Splitting and joining encoded lists, for foreach tasks (the engine, and the task entry in
 * Argo mode). kernel-lib's value codec writes an array as a JSON array of its elements'
 * encodings, so both are plain JSON at the top level: user values are never decoded and
 * user codecs never run outside a task.
 */

/** The encoding of `undefined`: what a failed element (or a skipped upstream's output) reads as. */
export const ENCODED_UNDEFINED = '{"$cg":"undef","v":null}';

/** Splits an encoded list into its elements' encodings (each a valid encoded value). */
export function splitEncodedList(bytes: Buffer, name: string): string[] {
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  if (!Array.isArray(parsed)) throw new Error(`the foreach list "${name}" is not an array at run time`);
  return parsed.map((element) => JSON.stringify(element));
}

/** Joins element encodings into the encoding of the list of them. */
export function joinEncodedList(elements: string[]): Buffer {
  return Buffer.from(`[${elements.join(',')}]`, 'utf8');
}
