import { ImagePaths, SERVER_BIN, planServerLayers } from '..';

describe("the server image's layers", () => {
  const [dependencies, server] = planServerLayers();
  const paths = (entries: ReturnType<typeof server.entries>) => new Set(entries.map((e) => e.path));

  it('carry the whole server with its bin script, and no tests', () => {
    const entries = server.entries();
    const files = paths(entries);
    expect(files.has(SERVER_BIN)).toBe(true);
    expect(entries.find((e) => e.path === SERVER_BIN)).toMatchObject({ kind: 'file', executable: true });
    for (const module of ['cli/main.js', 'api/server.js', 'deploy/manifests.js', 'executors/task-entry.js']) expect(files.has(`${ImagePaths.nodeModules}/@cellgraph/server/dist/${module}`)).toBe(true);
    expect(files.has(`${ImagePaths.app}/package-lock.json`)).toBe(true);
    expect(files.has(`${ImagePaths.nodeModules}/@cellgraph/schema/package.json`)).toBe(true);
    expect(files.has(`${ImagePaths.nodeModules}/@cellgraph/kernel/package.json`)).toBe(true);
    expect([...files].filter((p) => p.includes('/__tests__/') || p.endsWith('.ts') || p.endsWith('.map'))).toEqual([]);
  });

  it("carry the server's dependencies, native modules included, but not cellgraph's own packages", () => {
    expect(dependencies.name).toBe('dependencies');
    for (const pkg of ['fastify', 'pg', 'better-sqlite3', '@kubernetes/client-node', 'zod', 'typescript']) expect(dependencies.description).toMatch(new RegExp(`(: |, )${pkg.replace('/', '\\/')}(,| \\()`));
    expect(dependencies.description).not.toContain('@cellgraph/');
  });

  it('are keyed by their inputs: planning twice gives the same keys', () => {
    expect(planServerLayers().map((p) => p.key)).toEqual([dependencies.key, server.key]);
  });
});
