/** Webhook destinations: metadata and link-local addresses refused at submit and at connect. */
import type { LookupAddress } from 'node:dns';
import { postJson } from '../webhook';
import { WebhookGuard } from '../webhook-guard';
import { startHookServer } from '@cellgraph/dev/test-support/hook-server';

const field = 'body.webhookUrl';

async function refusal(guard: WebhookGuard, url: string): Promise<{ message: string; field?: string } | undefined> {
  try {
    await guard.check(url, field);
    return undefined;
  } catch (e) {
    return e as { message: string; field?: string };
  }
}

describe('WebhookGuard.check (at submit)', () => {
  const guard = new WebhookGuard();

  it.each([
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://169.254.170.2/v2/credentials',
    'http://[fe80::1]/hook',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://0.0.0.0:8080/',
    'http://metadata.google.internal/computeMetadata/v1/'
  ])('refuses %s with a 400 naming the field', async (url) => {
    const e = await refusal(guard, url);
    expect(e).toMatchObject({ name: 'ValidationError', field });
    expect(e?.message).toMatch(/^body\.webhookUrl: .*(link-local or cloud metadata address|cloud metadata service).*--allow-webhook-host/);
  });

  it('accepts loopback, private and public destinations', async () => {
    for (const url of ['http://127.0.0.1:9/x', 'http://10.0.0.5/x', 'https://hooks.example.com/x', 'http://[::1]:8080/']) {
      expect(await refusal(guard, url)).toBeUndefined();
    }
  });

  it('refuses a name that resolves to a metadata address', async () => {
    const resolving = new WebhookGuard([], async () => [{ address: '169.254.169.254', family: 4 }]);
    expect((await refusal(resolving, 'http://innocent.example/hook'))?.message).toContain('innocent.example (169.254.169.254)');
  });

  it('lets through what the operator allows, by address, range or name', async () => {
    const allowing = new WebhookGuard(['169.254.170.0/24', 'fe80::1', 'metadata.google.internal']);
    expect(await refusal(allowing, 'http://169.254.170.9/x')).toBeUndefined();
    expect(await refusal(allowing, 'http://[fe80::1]/x')).toBeUndefined();
    expect(await refusal(allowing, 'http://metadata.google.internal/x')).toBeUndefined();
    expect(await refusal(allowing, 'http://169.254.169.254/x')).toBeDefined();
  });

  it('refuses an allow entry that is no host, address or range, naming the setting', () => {
    for (const entry of ['10.0.0.0/33', '10.0.0.0/x', 'http://host', 'fe80::/10/1']) {
      expect(() => new WebhookGuard([entry])).toThrow(`--allow-webhook-host / CELLGRAPH_WEBHOOK_ALLOW: ${JSON.stringify(entry)} is not a host name, an address or a CIDR range`);
    }
  });
});

describe('postJson through the guard (at delivery)', () => {
  it('refuses a literal metadata address without connecting, and does not retry it', async () => {
    const r = await postJson('http://169.254.169.254/latest', '{}', { timeoutMs: 2000, guard: new WebhookGuard() });
    expect(r).toEqual({ ok: false, retryable: false, error: expect.stringContaining('169.254.169.254 is a link-local or cloud metadata address') });
  });

  it('checks the addresses the connection itself uses: a name rebound to the metadata address after submit is refused', async () => {
    const hook = await startHookServer(() => 200);
    try {
      const port = new URL(hook.url).port;
      let answers: LookupAddress[] = [{ address: '127.0.0.1', family: 4 }];
      const guard = new WebhookGuard([], async () => answers);
      const url = `http://rebind.example:${port}/hook`;
      await guard.check(url, field);
      expect(await postJson(url, '{"n":1}', { timeoutMs: 2000, guard })).toEqual({ ok: true, statusCode: 200 });
      expect(hook.received).toHaveLength(1);

      answers = [{ address: '169.254.169.254', family: 4 }];
      const r = await postJson(url, '{"n":2}', { timeoutMs: 2000, guard });
      expect(r).toEqual({ ok: false, retryable: false, error: expect.stringContaining('rebind.example (169.254.169.254)') });
      expect(hook.received).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });
});
