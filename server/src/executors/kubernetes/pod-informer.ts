import * as k8s from '@kubernetes/client-node';
import { backoffDelay, sleep } from '../../retry';
import { toKubeError } from './kube-errors';

/** A change to one watched pod: its latest state, or undefined once it is gone. */
export type PodListener = (pod: k8s.V1Pod | undefined) => void;

/** Waits between reconnects after errors: full jitter, the cap doubling from 500 ms to 10 s. */
const RECONNECT_BACKOFF = { baseMs: 500, maxMs: 10_000 };

/**
 * A cache of the pods cellgraph manages in one namespace, kept current the way
 * client-go's informers do: list (remembering the list's resourceVersion), then watch from
 * that version; when a watch ends, watch again from the last version seen; when the API
 * server says that version is too old (410 Gone, after compaction or a restart), list
 * again and tell listeners about every pod that changed or vanished meanwhile. One watch
 * serves every attempt, so 200 running tasks cost one connection, not 200 polls.
 */
export class PodInformer {
  private readonly pods = new Map<string, k8s.V1Pod>();
  private readonly listeners = new Map<string, Set<PodListener>>();
  private readonly anyListeners = new Set<(name: string, pod: k8s.V1Pod | undefined) => void>();
  private resourceVersion = '';
  private request?: { abort(): void };
  private stopped = false;
  private failures = 0;
  private synced?: Promise<void>;
  /** Counts for tests and benchmarks: how often the informer listed and (re)started its watch. */
  readonly stats = { lists: 0, watches: 0, goneRelists: 0, errors: 0 };

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly onError: (message: string) => void = () => undefined
  ) {}

  /** Lists and starts watching; resolves once the first list is in the cache. */
  start(): Promise<void> {
    this.synced ??= this.listAndWatch(true);
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.request?.abort();
  }

  /** The cached pod of that name. */
  get(name: string): k8s.V1Pod | undefined {
    return this.pods.get(name);
  }

  /** Cached pods whose labels include all of `labels`. */
  find(labels: Record<string, string>): k8s.V1Pod[] {
    return [...this.pods.values()].filter((p) => Object.entries(labels).every(([k, v]) => p.metadata?.labels?.[k] === v));
  }

  /** Calls `listener` on every change to the pod of that name; returns the unsubscribe function. */
  subscribe(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set?.delete(listener);
      if (set?.size === 0) this.listeners.delete(name);
    };
  }

  /** Records a pod this process just created or read, so followers need not wait for the watch. */
  observe(pod: k8s.V1Pod): void {
    const name = pod.metadata?.name;
    if (name === undefined) return;
    const known = this.pods.get(name);
    if (known !== undefined && Number(known.metadata?.resourceVersion ?? 0) >= Number(pod.metadata?.resourceVersion ?? 0)) return;
    this.pods.set(name, pod);
    this.notify(name, pod);
  }

  /** Calls `listener` on every change to any pod; returns the unsubscribe function. */
  subscribeAll(listener: (name: string, pod: k8s.V1Pod | undefined) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Every cached pod. */
  all(): k8s.V1Pod[] {
    return [...this.pods.values()];
  }

  private notify(name: string, pod: k8s.V1Pod | undefined): void {
    for (const l of [...(this.listeners.get(name) ?? [])]) l(pod);
    for (const l of [...this.anyListeners]) l(name, pod);
  }

  private async listAndWatch(first: boolean): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        await this.list();
        this.failures = 0;
        void this.watch();
        return;
      } catch (err) {
        this.stats.errors += 1;
        const e = toKubeError(err);
        // The first list is how a misconfigured cluster shows itself: fail loudly there.
        if (first && (e.status === 401 || e.status === 403 || e.status === 404)) throw e;
        this.onError(`listing pods in ${this.namespace} failed (${e.message}); retrying`);
        await this.backoff();
      }
    }
  }

  private async list(): Promise<void> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const body = await core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector });
    this.stats.lists += 1;
    this.resourceVersion = body.metadata?.resourceVersion ?? '';
    const seen = new Set<string>();
    for (const pod of body.items) {
      const name = pod.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      const before = this.pods.get(name);
      this.pods.set(name, pod);
      if (before?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.notify(name, pod);
    }
    // Deletions that happened while no watch was open.
    for (const name of [...this.pods.keys()]) {
      if (seen.has(name)) continue;
      this.pods.delete(name);
      this.notify(name, undefined);
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.stats.watches += 1;
    let gone = false;
    const query = { labelSelector: this.labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 };
    const ended = (err: unknown) => {
      this.request = undefined;
      if (this.stopped) return;
      if (gone) {
        this.stats.goneRelists += 1;
        void this.listAndWatch(false);
      } else if (err) {
        this.stats.errors += 1;
        this.onError(`watching pods in ${this.namespace} failed (${toKubeError(err).message}); reconnecting`);
        // After a failure, list again: the API server may have restarted and events may be lost.
        void this.backoff().then(() => this.listAndWatch(false));
      } else {
        // A watch the server closed normally (timeout): carry on from the last version seen.
        void this.watch();
      }
    };
    try {
      this.request = await new k8s.Watch(this.kc).watch(
        `/api/v1/namespaces/${this.namespace}/pods`,
        query,
        (type: string, obj: k8s.V1Pod) => this.onEvent(type, obj, () => (gone = true)),
        ended
      );
      if (this.stopped) this.request?.abort();
    } catch (err) {
      ended(err);
    }
  }

  private onEvent(type: string, obj: k8s.V1Pod, markGone: () => void): void {
    if (type === 'ERROR') {
      // A Status object: 410 means our resourceVersion is too old to resume from; any other
      // error in the stream is also safest answered by a fresh list.
      markGone();
      this.request?.abort();
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const name = obj.metadata?.name;
    if (name === undefined) return;
    if (type === 'DELETED') {
      this.pods.delete(name);
      this.notify(name, undefined);
    } else {
      this.pods.set(name, obj);
      this.notify(name, obj);
    }
  }

  private async backoff(): Promise<void> {
    this.failures += 1;
    await sleep(backoffDelay(RECONNECT_BACKOFF, this.failures), undefined, true);
  }
}
