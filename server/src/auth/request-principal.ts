import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../errors';
import type { Principal } from './principal';

const principals = new WeakMap<FastifyRequest, Principal>();

/** Remembers who a request comes from (set once, by the app's authentication hook). */
export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  principals.set(request, principal);
}

/** Who a request comes from; a route reached without authentication is a server bug, answered 401. */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (p === undefined) throw new UnauthorizedError('this request was not authenticated');
  return p;
}
