import * as dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidationError } from '../errors';

/** Resolves a host name to every address it has. */
export type Resolver = (host: string) => Promise<dns.LookupAddress[]>;

const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true });

/** The error code of a delivery refused by the guard: not worth retrying. */
export const WEBHOOK_REFUSED = 'ECELLGRAPH_WEBHOOK_REFUSED';

/**
 * Where a webhook may never go unless the operator allows it: link-local ranges (the cloud
 * metadata services of AWS, GCP, Azure and OpenStack answer on 169.254.169.254, and their
 * answers hold the machine's credentials), other metadata addresses, and "this host"
 * addresses. Loopback and private ranges stay allowed: a development server's receivers
 * are often on localhost or the LAN.
 */
function refusedRanges(): BlockList {
  const list = new BlockList();
  list.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, instance metadata
  list.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"; 0.0.0.0 reaches the local host
  list.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
  list.addSubnet('fe80::', 10, 'ipv6'); // link-local
  list.addAddress('fd00:ec2::254', 'ipv6'); // AWS instance metadata over IPv6
  list.addAddress('::', 'ipv6');
  return list;
}

/** Host names of metadata services, refused by name whatever they resolve to. */
const REFUSED_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/**
 * Checks webhook destinations: when a URL is submitted (so a bad one is a 400 at once) and
 * again for every delivery, through the DNS lookup of the connection itself, so a name
 * that resolved to a public address at submit and to the metadata address later (DNS
 * rebinding) is refused at the moment it matters.
 */
export class WebhookGuard {
  private readonly refused = refusedRanges();
  private readonly allowedNames = new Set<string>();
  private readonly allowed = new BlockList();

  /**
   * `allow`: host names, addresses or CIDR ranges (`10.1.0.0/16`) let through although
   * refused by default. `resolve`: how names become addresses (the system resolver; tests
   * pass one that changes its answer, as a rebinding DNS server does).
   */
  constructor(
    allow: readonly string[] = [],
    private readonly resolve: Resolver = systemResolver
  ) {
    for (const entry of allow) {
      const [address, bits, extra] = entry.split('/');
      const bare = address.replace(/^\[|\]$/g, '');
      const family = isIP(bare);
      const prefix = Number(bits);
      if (family === 0 && bits === undefined && /^[a-z0-9.-]+$/i.test(entry)) this.allowedNames.add(entry.toLowerCase());
      else if (family !== 0 && bits === undefined) this.allowed.addAddress(bare, family === 4 ? 'ipv4' : 'ipv6');
      else if (family !== 0 && extra === undefined && /^\d+$/.test(bits) && prefix <= (family === 4 ? 32 : 128)) this.allowed.addSubnet(bare, prefix, family === 4 ? 'ipv4' : 'ipv6');
      else throw new ValidationError(`--allow-webhook-host / CELLGRAPH_WEBHOOK_ALLOW: ${JSON.stringify(entry)} is not a host name, an address or a CIDR range`, 'webhookAllow');
    }
  }

  /**
   * Refuses (ValidationError naming `field`) a URL whose host is a refused name or
   * resolves to a refused address. A name that does not resolve now is accepted: it is
   * checked again when a delivery connects.
   */
  async check(url: string, field: string): Promise<void> {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (this.allowedNames.has(host)) return;
    const refused = this.refusedHost(url);
    if (refused !== undefined) throw new ValidationError(`${field}: ${refused}`, field);
    if (isIP(host) !== 0) return;
    let addresses: dns.LookupAddress[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return;
    }
    const why = this.refusedAmong(host, addresses);
    if (why !== undefined) throw new ValidationError(`${field}: ${why}`, field);
  }

  /**
   * Why a delivery to `url` is refused before any lookup (a refused name, or an address
   * written in the URL, which connecting does not look up), or undefined.
   */
  refusedHost(url: string): string | undefined {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (this.allowedNames.has(host)) return undefined;
    return this.refusedName(host) ?? (isIP(host) !== 0 ? this.refusedAddress(host, host) : undefined);
  }

  /**
   * A `lookup` for http.request that fails the connection (code WEBHOOK_REFUSED) when the
   * name is refused or any address it resolves to is.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const connect = async (): Promise<dns.LookupAddress[]> => {
      const named = this.allowedNames.has(host) ? undefined : this.refusedName(host);
      if (named !== undefined) throw refusal(named);
      const found = await this.resolve(hostname);
      const why = this.allowedNames.has(host) ? undefined : this.refusedAmong(host, found);
      if (why !== undefined) throw refusal(why);
      const wanted = found.filter((a) => options.family === undefined || options.family === 0 || a.family === options.family);
      if (wanted.length === 0) throw Object.assign(new Error(`${hostname}: no address of the family asked for`), { code: 'ENOTFOUND' });
      return wanted;
    };
    connect().then(
      (addresses) => {
        if (options.all === true) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (e: NodeJS.ErrnoException) => callback(e, '', 4)
    );
  };

  private refusedAmong(host: string, addresses: dns.LookupAddress[]): string | undefined {
    return addresses.map((a) => this.refusedAddress(host, a.address)).find((w) => w !== undefined);
  }

  private refusedName(host: string): string | undefined {
    return REFUSED_NAMES.has(host) ? `${host} is a cloud metadata service; webhooks may not reach it (allow it with --allow-webhook-host)` : undefined;
  }

  private refusedAddress(host: string, address: string): string | undefined {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    if (!this.refused.check(ip, family) || this.allowed.check(ip, family)) return undefined;
    const shown = host === ip ? ip : `${host} (${ip})`;
    return `${shown} is a link-local or cloud metadata address; webhooks may not reach it (allow it with --allow-webhook-host)`;
  }
}

function refusal(message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = WEBHOOK_REFUSED;
  return e;
}
