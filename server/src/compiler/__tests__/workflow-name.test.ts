import { workflowNameFromPath } from '../index';
import { TaskName } from '@cellgraph/schema';

describe('workflowNameFromPath: a workflow is its notebook path relative to the root', () => {
  it('keeps a clean path readable: folders join with --', () => {
    expect(workflowNameFromPath('iris.ipynb')).toBe('iris');
    expect(workflowNameFromPath('analysis/sample_stats.ipynb')).toBe('analysis--sample_stats');
    expect(workflowNameFromPath('a/b/c-d.ipynb')).toBe('a--b--c-d');
  });

  it('gives two folders with the same file name two names', () => {
    expect(workflowNameFromPath('a/nb.ipynb')).not.toBe(workflowNameFromPath('b/nb.ipynb'));
  });

  it('appends a hash of the path when slugging loses information, so distinct paths never merge', () => {
    const lossy = ['Analysis/Sample Stats.ipynb', 'analysis/sample stats.ipynb', 'a--b.ipynb', 'a-/b.ipynb', 'a/-b.ipynb', '1st.ipynb', `${'x'.repeat(70)}.ipynb`, 'Ünïcode/ß.ipynb'];
    const names = lossy.map(workflowNameFromPath);
    for (const n of names) {
      expect(n).toMatch(/-[0-9a-f]{8}$/);
      expect(TaskName.safeParse(n).success).toBe(true);
    }
    expect(new Set([...names, workflowNameFromPath('a/b.ipynb')]).size).toBe(names.length + 1);
  });

  it('yields a valid task name for hostile paths (never a path or shell word)', () => {
    for (const p of ['../../etc/passwd.ipynb', '$(rm -rf ~).ipynb', 'a b;c|d.ipynb', '.ipynb', '---.ipynb', 'x/../y.ipynb']) {
      expect(TaskName.safeParse(workflowNameFromPath(p)).success).toBe(true);
    }
  });
});
