import { z } from 'zod';
import { UnavailableError } from '../../errors';

/** Who the Hub says a token belongs to (`GET /hub/api/user` answered with that token). */
export interface HubTokenOwner {
  kind: 'user' | 'service';
  name: string;
  /** The token's own scopes, as the Hub expanded them. */
  scopes: string[];
}

const TokenModel = z.object({ kind: z.enum(['user', 'service']), name: z.string().min(1), scopes: z.array(z.string()).default([]) });
const UserModel = z.object({ name: z.string().min(1), groups: z.array(z.string()).default([]) });

/** How the server reaches the Hub's REST API. */
export interface HubClientOptions {
  /** `http://hub:8081/hub/api` (JUPYTERHUB_API_URL). */
  apiUrl: string;
  /** The cellgraph service's own Hub token (JUPYTERHUB_API_TOKEN): reads users' groups. */
  serviceToken: string;
  /** Per request (default 5 s): a Hub that hangs answers 503, it does not hold requests forever. */
  timeoutMs?: number;
}

/**
 * The Hub's REST API, as a Hub service uses it: a caller's token is resolved with that token
 * itself (so the Hub, not the caller, says whose it is), a user's groups with the service's token.
 */
export class HubClient {
  private readonly base: string;

  constructor(private readonly options: HubClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
  }

  /** The token's owner, or undefined when the Hub refuses the token (unknown, expired, revoked). */
  async tokenOwner(token: string): Promise<HubTokenOwner | undefined> {
    const res = await this.get('/user', token);
    if (res.status === 401 || res.status === 403) return undefined;
    return TokenModel.parse(await this.json(res, '/user'));
  }

  /** A user's Hub groups, read with the service's token (it needs the scope `read:users:groups`, or `read:users`). */
  async groupsOf(user: string): Promise<string[]> {
    const path = `/users/${encodeURIComponent(user)}`;
    const res = await this.get(path, this.options.serviceToken);
    if (res.status === 404) return [];
    return UserModel.parse(await this.json(res, path)).groups;
  }

  private async get(path: string, token: string): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, {
        headers: { authorization: `token ${token}`, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000)
      });
    } catch (err) {
      throw new UnavailableError(`the JupyterHub API at ${this.base} cannot be reached: ${(err as Error).message}`);
    }
  }

  private async json(res: Response, path: string): Promise<unknown> {
    if (!res.ok) throw new UnavailableError(`the JupyterHub API answered ${path} with HTTP ${res.status}`);
    try {
      return await res.json();
    } catch {
      throw new UnavailableError(`the JupyterHub API answered ${path} with no JSON`);
    }
  }
}
