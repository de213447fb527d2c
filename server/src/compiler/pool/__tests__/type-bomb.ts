import { code, notebookText } from '../../../test-support/notebooks';

/**
 * The notebook of issue 13 that froze the server for 93 s: a few kilobytes, `tasks` tasks,
 * each declaring a 90,000-member template-literal union type (9 x 10^4 strings) and a
 * value of it. Every task is type-checked alone, so each builds its union afresh.
 */
export function typeBombNotebook(tasks = 12): string {
  const digits = "'0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9'";
  const cells = [code(`type D = ${digits};\ntype N = Exclude<D, '0'>;`, { role: 'setup' })];
  for (let i = 0; i < tasks; i++) {
    cells.push(code(`type Id${i} = \`\${N}\${D}\${D}\${D}\${D}\`;\nconst id${i}: Id${i} = '1${String(i).padStart(4, '0')}';`, { task: `t${i}` }));
  }
  return notebookText(cells);
}
