/**
 * docs/api.md lists the routes of the table: its route list is rendered from
 * `apiRouteList`, and this test fails (printing the list to paste) when the two differ.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiRouteList } from '../routes';

const DOC = path.resolve(__dirname, '..', '..', '..', 'docs', 'api.md');

/** The route list as docs/api.md shows it, one row per route of the table. */
function renderRoutes(): string {
  const rows = apiRouteList.map((r) => {
    const success = `${r.status}${r.contentType === 'application/json' ? '' : ` (${r.contentType})`}`;
    const errors = Object.keys(r.errors).join(', ') || '-';
    return `| ${r.name} | \`${r.method} ${r.path}\` | ${success} | ${errors} | ${r.auth ? '' : '(no token) '}${r.summary.replace(/\|/g, '\\|')} |`;
  });
  return ['| operation | route | success | its own errors | what it does |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

it('docs/api.md lists every route of the table, as the table declares it', () => {
  const text = fs.readFileSync(DOC, 'utf8');
  const listed = /<!-- routes:begin -->\n([\s\S]*?)\n<!-- routes:end -->/.exec(text)?.[1];
  const expected = renderRoutes();
  if (listed !== expected) throw new Error(`docs/api.md's route list is out of date; put this between its routes markers:\n${expected}`);
});
