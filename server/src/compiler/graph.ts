/**
 * Finds a cycle in a task graph given as `upstream` lists, returning the tasks on it in
 * order (first repeated at the end), or undefined when the graph is acyclic.
 */
export function findCycle(upstream: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const up of upstream.get(node) ?? []) {
      const s = state.get(up);
      if (s === 'visiting') return [...stack.slice(stack.indexOf(up)), up];
      if (s === undefined) {
        const found = visit(up);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...upstream.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      // Walked along upstream links, so reverse to read in the direction data flows.
      if (found) return found.reverse();
    }
  }
  return undefined;
}
