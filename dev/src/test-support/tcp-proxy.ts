import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';

/** A TCP forwarder on 127.0.0.1 that can refuse and cut every connection: an outage, as clients see it. */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and hangs up on new ones until `up()`. */
  down(): void;
  up(): void;
  /** Connections hung up since the proxy started (each one a client's attempt that failed). */
  readonly hungUp: number;
  /** Resolves once `count` connections in all have been hung up: clients really met the outage. */
  untilHungUp(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let refusing = false;
  let hungUp = 0;
  const events = new EventEmitter();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (refusing) {
      hungUp += 1;
      client.destroy();
      events.emit('hung-up');
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    down: () => {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    up: () => {
      refusing = false;
    },
    get hungUp() {
      return hungUp;
    },
    untilHungUp: async (count) => {
      while (hungUp < count) await once(events, 'hung-up');
    },
    close: () => new Promise((r) => server.close(() => r()))
  };
}
