/** What the kubelet reports, mapped to what the engine does: user failures, system failures, timeouts, stuck pods. */
import type { V1Pod } from '@kubernetes/client-node';
import { podProgress } from '../pod-progress';

const pod = (status: V1Pod['status'], memory?: string): V1Pod => ({
  metadata: { name: 'cg-r-1-train-1' },
  spec: { containers: [{ name: 'task', image: 'x', ...(memory ? { resources: { limits: { memory } } } : {}) }] },
  status
});
const terminated = (reason: string, exitCode: number) => ({ containerStatuses: [{ name: 'task', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { reason, exitCode } } }] });
const waiting = (reason: string, message?: string) => ({ phase: 'Pending', containerStatuses: [{ name: 'task', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });

it('pending and running pods are in progress; a pull or config error is a problem with the reason', () => {
  expect(podProgress(pod({ phase: 'Pending' }))).toEqual({ kind: 'waiting' });
  expect(podProgress(pod(waiting('ContainerCreating')))).toEqual({ kind: 'waiting' });
  expect(podProgress(pod(waiting('ImagePullBackOff', 'Back-off pulling image "x"')))).toEqual({ kind: 'waiting', problem: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } });
  expect(podProgress(pod(waiting('CreateContainerConfigError', 'secret "db" not found'))).kind).toBe('waiting');
  expect(podProgress(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] }))).toEqual({
    kind: 'waiting',
    problem: { reason: 'Unschedulable', message: '0/3 nodes are available' }
  });
  expect(podProgress(pod({ phase: 'Running' }))).toEqual({ kind: 'running' });
  expect(podProgress(pod({ phase: 'Succeeded' }))).toEqual({ kind: 'succeeded' });
});

it("OOMKilled and non-zero exits are the task's failures (its own retries apply)", () => {
  expect(podProgress(pod({ phase: 'Failed', ...terminated('OOMKilled', 137) }, '64Mi'))).toMatchObject({ kind: 'failed', failure: 'user', reason: 'OOMKilled', exitCode: 137, message: expect.stringContaining('64Mi') });
  expect(podProgress(pod({ phase: 'Failed', ...terminated('Error', 3) }))).toMatchObject({ kind: 'failed', failure: 'user', reason: 'Error', exitCode: 3 });
});

it('eviction, node loss, preemption and disruptions are system failures (a separate budget)', () => {
  expect(podProgress(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }))).toMatchObject({ failure: 'system', reason: 'Evicted' });
  expect(podProgress(pod({ phase: 'Failed', reason: 'NodeLost' }))).toMatchObject({ failure: 'system' });
  expect(podProgress(pod({ phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }], ...terminated('Error', 137) }))).toMatchObject({
    failure: 'system',
    reason: 'PreemptionByScheduler'
  });
  expect(podProgress(pod({ phase: 'Failed', ...terminated('ContainerStatusUnknown', 137) }))).toMatchObject({ failure: 'system' });
});

it('activeDeadlineSeconds exceeded is a timeout', () => {
  expect(podProgress(pod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }))).toMatchObject({ kind: 'failed', failure: 'timeout' });
});
