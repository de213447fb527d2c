/** Live output of running attempts: a foreach element's is kept apart from the other elements' and the task's. */
import { LiveLogs, sharedLogTask } from '../live-logs';

const RUN = 'r-20261205t000000-abc123';

it('keeps each element’s live output apart, and says which element changed', () => {
  const logs = new LiveLogs();
  logs.listener({ runId: RUN, task: 'train', attempt: 1, element: 0, stream: 'stdout', text: 'element 0\n' });
  logs.listener({ runId: RUN, task: 'train', attempt: 1, element: 1, stream: 'stdout', text: 'element 1\n' });
  logs.listener({ runId: RUN, task: 'prep', attempt: 1, stream: 'stderr', text: 'prep\n' });
  expect(logs.get(RUN, 'train', 1, 0)).toBe('element 0\n');
  expect(logs.get(RUN, 'train', 1, 1)).toBe('element 1\n');
  expect(logs.get(RUN, 'train', 1)).toBeUndefined();
  expect(logs.get(RUN, 'prep', 1)).toBe('prep\n');
  expect(logs.takeChanged()).toEqual([
    { runId: RUN, task: 'train', attempt: 1, element: 0, text: 'element 0\n' },
    { runId: RUN, task: 'train', attempt: 1, element: 1, text: 'element 1\n' },
    { runId: RUN, task: 'prep', attempt: 1, text: 'prep\n' }
  ]);
  logs.dropRun(RUN);
  expect(logs.get(RUN, 'train', 1, 0)).toBeUndefined();
});

it('shares an element’s live output between replicas under a task key no task name can take', () => {
  expect(sharedLogTask('train')).toBe('train');
  expect(sharedLogTask('train', 3)).toBe('train#3');
});
