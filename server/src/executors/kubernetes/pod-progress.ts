import type { V1Pod } from '@kubernetes/client-node';

/**
 * What a pod's status means for the task attempt it runs. Pure, so every phase and
 * reason the kubelet reports is tested without a cluster.
 *
 * Failures are split the way Flyte splits them: `user` failures (the task's code or its
 * resource needs: non-zero exit, OOMKilled) use the task's own retries; `system`
 * failures (eviction, node loss, preemption, a pod deleted by someone else) are the
 * platform's fault and use a separate budget, so a flaky node does not eat the retries a
 * user set for their code.
 */
export type PodProgress =
  /** Not running yet; `problem` is set when the pod cannot start without outside help (bad image, missing Secret, unschedulable). */
  | { kind: 'waiting'; problem?: { reason: string; message: string } }
  | { kind: 'running' }
  | { kind: 'succeeded' }
  | { kind: 'failed'; failure: 'user' | 'system' | 'timeout'; reason: string; message: string; exitCode?: number };

/** Pod-level reasons (status.reason) the kubelet and controllers set when the platform ended the pod. */
const SYSTEM_POD_REASONS = new Set(['Evicted', 'NodeLost', 'Preempting', 'Shutdown', 'NodeShutdown', 'Terminated', 'UnexpectedAdmissionError', 'NodeAffinity', 'OutOfcpu', 'OutOfmemory', 'OutOfpods']);

/** Waiting reasons that do not clear by themselves: the image or the pod's configuration is wrong. */
const STUCK_WAITING_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Reasons of the DisruptionTarget condition (Kubernetes ≥ 1.26) that mean the platform took the pod away. */
const DISRUPTION_REASONS = new Set(['EvictionByEvictionAPI', 'PreemptionByScheduler', 'DeletionByTaintManager', 'DeletionByPodGC', 'TerminationByKubelet']);

/** The progress of the pod of a task attempt (its one container is named `task`). */
export function podProgress(pod: V1Pod): PodProgress {
  const status = pod.status ?? {};
  const container = status.containerStatuses?.find((c) => c.name === 'task') ?? status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  switch (status.phase) {
    case 'Succeeded':
      return { kind: 'succeeded' };
    case 'Failed': {
      const message = status.message ?? terminated?.message ?? '';
      if (status.reason === 'DeadlineExceeded') return { kind: 'failed', failure: 'timeout', reason: 'DeadlineExceeded', message: message || 'the pod ran longer than its activeDeadlineSeconds' };
      const disruption = status.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
      if ((status.reason !== undefined && SYSTEM_POD_REASONS.has(status.reason)) || (disruption?.reason !== undefined && DISRUPTION_REASONS.has(disruption.reason))) {
        const reason = status.reason ?? disruption?.reason ?? 'Disrupted';
        return { kind: 'failed', failure: 'system', reason, message: message || disruption?.message || reason, exitCode: terminated?.exitCode };
      }
      if (terminated?.reason === 'ContainerStatusUnknown') return { kind: 'failed', failure: 'system', reason: 'ContainerStatusUnknown', message: message || 'the container status was lost with its node' };
      if (terminated?.reason === 'OOMKilled') {
        const limit = pod.spec?.containers?.[0]?.resources?.limits?.memory;
        return { kind: 'failed', failure: 'user', reason: 'OOMKilled', message: `the task ran out of memory${limit ? ` (limit ${limit})` : ''} and was killed`, exitCode: terminated.exitCode };
      }
      const exitCode = terminated?.exitCode;
      return { kind: 'failed', failure: 'user', reason: terminated?.reason ?? status.reason ?? 'Error', message: message || `the task container exited with code ${exitCode ?? 'unknown'}`, exitCode };
    }
    case 'Running':
      return { kind: 'running' };
    default: {
      const waiting = container?.state?.waiting;
      if (waiting?.reason !== undefined && STUCK_WAITING_REASONS.has(waiting.reason)) {
        return { kind: 'waiting', problem: { reason: waiting.reason, message: waiting.message ?? waiting.reason } };
      }
      const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
      if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
        return { kind: 'waiting', problem: { reason: 'Unschedulable', message: scheduled.message ?? 'no node can run this pod' } };
      }
      return { kind: 'waiting' };
    }
  }
}
