import { type ISignal, Signal } from '@lumino/signaling';
import type { ProductionSettingsStore } from './api';
import type { ICellgraphServer, ICellgraphTargets, TargetName } from './tokens';

/** How the UI names a production server: its host (and port), or the URL when it does not parse. */
export function targetLabel(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/**
 * The targets every panel shares: the development server, and a production server made (by
 * `makeProduction`, given its label) whenever the Jupyter server says one is configured.
 * Production calls go through the Jupyter server, which adds the token; only the URL is known here.
 */
export class CellgraphTargets implements ICellgraphTargets {
  private prod?: { url: string; server: ICellgraphServer };
  private readonly changedSignal = new Signal<ICellgraphTargets, void>(this);
  private readonly runsSignal = new Signal<ICellgraphTargets, { server: ICellgraphServer; runId: string }>(this);

  constructor(readonly development: ICellgraphServer, private readonly store: ProductionSettingsStore, private readonly makeProduction: (label: string) => ICellgraphServer) {
    this.relay(development);
  }

  get production(): ICellgraphServer | undefined {
    return this.prod?.server;
  }

  /** The configured production URL (for the settings dialog). */
  get productionUrl(): string | undefined {
    return this.prod?.url;
  }

  get all(): readonly ICellgraphServer[] {
    return this.prod ? [this.development, this.prod.server] : [this.development];
  }

  get preferred(): ICellgraphServer {
    return this.prod?.server ?? this.development;
  }

  get changed(): ISignal<ICellgraphTargets, void> {
    return this.changedSignal;
  }

  get runsChanged(): ISignal<ICellgraphTargets, { server: ICellgraphServer; runId: string }> {
    return this.runsSignal;
  }

  get(target: TargetName): ICellgraphServer | undefined {
    return target === 'development' ? this.development : this.prod?.server;
  }

  async refresh(): Promise<void> {
    const settings = await this.store.read();
    this.apply(settings.configured && settings.url !== null ? settings.url : undefined);
  }

  /** Saves a production server (the Jupyter server checks the URL and token first; its refusal names the field). */
  async configure(url: string, token: string): Promise<void> {
    const settings = await this.store.write(url, token);
    this.apply(settings.url ?? undefined);
  }

  /** Forgets the production server: Promote goes to development again. */
  async forget(): Promise<void> {
    await this.store.forget();
    this.apply(undefined);
  }

  private apply(url: string | undefined): void {
    if (url === this.prod?.url) return;
    this.prod = url === undefined ? undefined : { url, server: this.makeProduction(targetLabel(url)) };
    if (this.prod) this.relay(this.prod.server);
    this.changedSignal.emit();
  }

  private relay(server: ICellgraphServer): void {
    server.runsChanged.connect((_s, runId) => {
      if (server === this.development || server === this.prod?.server) this.runsSignal.emit({ server, runId });
    }, this);
  }
}
