/** The tag panel's form ↔ annotation, refused exactly as the compiler would refuse it. */
import { annotationToForm, cellChip, formToAnnotation, type TagForm } from './annotations';

const form = (extra: Partial<TagForm>): TagForm => ({ role: 'task', name: 'train', after: '', retries: '', timeout: '', cpu: '', memory: '', gpu: '', image: '', cache: true, ...extra });

it('writes a task annotation with typed fields, and roles as roles', () => {
  expect(formToAnnotation(form({ after: 'load, split', retries: '2', timeout: '90', cpu: '500m', memory: '2Gi', gpu: '1', cache: false }))).toEqual({
    ok: true,
    annotation: { task: 'train', after: ['load', 'split'], retries: 2, timeoutSeconds: 90, cache: false, resources: { cpu: '500m', memory: '2Gi', gpu: 1 } }
  });
  expect(formToAnnotation(form({ role: 'setup' }))).toEqual({ ok: true, annotation: { role: 'setup' } });
  expect(formToAnnotation(form({ role: 'none' }))).toEqual({ ok: true, annotation: undefined });
});

it('refuses bad values naming the form field', () => {
  expect(formToAnnotation(form({ name: 'Bad Name' }))).toMatchObject({ ok: false, field: 'name' });
  expect(formToAnnotation(form({ retries: '-1' }))).toMatchObject({ ok: false, field: 'retries' });
  expect(formToAnnotation(form({ memory: 'lots' }))).toMatchObject({ ok: false, field: 'memory', message: expect.stringMatching(/memory quantity/) });
  expect(formToAnnotation(form({ gpu: '1.5' }))).toMatchObject({ ok: false, field: 'gpu' });
  expect(formToAnnotation(form({ after: 'a, B!' }))).toMatchObject({ ok: false, field: 'after' });
});

it('reads an annotation back into the form', () => {
  expect(annotationToForm({ task: 'train', retries: 2, resources: { memory: '1Gi' }, cache: false })).toMatchObject({ role: 'task', name: 'train', retries: '2', memory: '1Gi', cache: false });
  expect(annotationToForm({ role: 'parameters' }).role).toBe('parameters');
  expect(annotationToForm(undefined).role).toBe('none');
});

it('labels a cell with its own annotation, Kale and papermill tags included', () => {
  expect(cellChip({ cellgraph: { task: 'train' } })).toEqual({ text: 'task train', role: 'task' });
  expect(cellChip({ cellgraph: { role: 'parameters' } })).toEqual({ text: 'parameters', role: 'parameters' });
  expect(cellChip({ tags: ['block:load'] })).toEqual({ text: 'task load', role: 'task' });
  expect(cellChip({ tags: ['parameters'] })).toEqual({ text: 'parameters', role: 'parameters' });
  expect(cellChip({ cellgraph: { task: 'Bad Name' } })).toEqual({ text: 'invalid tag', role: 'invalid' });
  expect(cellChip({})).toBeUndefined();
  expect(cellChip(undefined)).toBeUndefined();
});
