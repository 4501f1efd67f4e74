/**
 * More attacks on the agents' OAuth server and /mcp (after test/oauth-attacks.test.ts): the
 * code-replay mark, refresh scopes, CORS, hostile MCP tool arguments, the "where is /mcp"
 * 404, and hostile client ids on "Your access". End to end in workerd with the simulator.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, gate, GATEWAY, type Harness, type HarnessOptions, ledgerWith } from './helpers.ts';
import { agentRequest, allowedCode, authorizedAgent, harness, mcp, redeem, registeredClient, REDIRECT, token, type Tokens, toConsent, answer } from './oauth-helpers.ts';

const MARK = 'agent-code-replayed:';
const broken = (): never => {
  throw new Error('storage down');
};

function refresh(h: Harness, refreshToken: string, clientId: string, extra: Record<string, string> = {}) {
  return token(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

/** The agents on the person's "Your access" (the harness's browser is signed in by the authorization). */
async function agentsListed(h: Harness): Promise<number> {
  const page = await (await h.request('/access')).text();
  return page.includes('id="no-agents"') ? 0 : [...page.matchAll(/class="muted client-id"/g)].length;
}

describe('the code-replay mark', () => {
  it('a replay that ends the grant between its creation and its first tokens: the first redemption is told the code was used twice (not a 503 to retry)', async () => {
    const held = gate();
    let holding = true;
    const { h } = harness({
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          issuePair: async (original, pair, now) => {
            if (holding) {
              holding = false;
              await held.wait();
            }
            return original(pair, now);
          },
        }),
    });
    const request = await agentRequest(await registeredClient(h));
    const code = await allowedCode(h, request);
    const first = redeem(h, request, code);
    await held.reached;
    const second = await redeem(h, request, code);
    expect(second.status).toBe(400);
    expect(await errorOf(second)).toBe('invalid_grant');
    held.open();
    const answer = await first;
    expect(await answer.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('used twice') });
    expect(answer.status).toBe(400);
    expect(await agentsListed(h)).toBe(0);
  });

  it('three redemptions of one code, the replays landing before the grant exists: no tokens, nothing listed, and the marks break no later authorization', async () => {
    const held = gate();
    let holding = true;
    const { h } = harness({
      wrapLedger: (ledger) =>
        ledgerWith(ledger, {
          createGrant: async (original, entry) => {
            if (holding && entry.kind === 'agent') {
              holding = false;
              await held.wait();
            }
            return original(entry);
          },
        }),
    });
    const clientId = await registeredClient(h);
    const request = await agentRequest(clientId);
    const code = await allowedCode(h, request);
    const first = redeem(h, request, code);
    await held.reached;
    const [b, c] = await Promise.all([redeem(h, request, code), redeem(h, request, code)]);
    expect([b.status, c.status]).toEqual([400, 400]);
    held.open();
    expect((await first).status).toBe(400);
    expect(await agentsListed(h)).toBe(0);
    // The same client, the same person, a new code: a single use works.
    const again = await agentRequest(clientId);
    const ok = await redeem(h, again, await allowedCode(h, again));
    expect(ok.status).toBe(200);
    expect((await mcp(h, ((await ok.json()) as Tokens).access_token)).status).toBe(200);
  });

  it('a replay after the first redemption answered: its tokens end, the mark it leaves does not touch the next authorization', async () => {
    const { h } = harness();
    const clientId = await registeredClient(h);
    const request = await agentRequest(clientId);
    const code = await allowedCode(h, request);
    const first = await redeem(h, request, code);
    const tokens = (await first.json()) as Tokens;
    expect((await redeem(h, request, code)).status).toBe(400);
    expect((await mcp(h, tokens.access_token)).status).toBe(401);
    expect((await refresh(h, tokens.refresh_token, clientId)).status).toBe(400);
    const next = await agentRequest(clientId);
    const res = await redeem(h, next, await allowedCode(h, next));
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as Tokens;
    expect((await mcp(h, fresh.access_token)).status).toBe(200);
    expect((await refresh(h, fresh.refresh_token, clientId)).status).toBe(200);
  });

  // A storage fault at each step of a redemption: a clear 503, the code spent, nothing alive, no tokens.
  // `down()` says whether storage is failing now (only during the redemption under test).
  const faults: [string, (down: () => boolean) => Parameters<typeof ledgerWith>[1]][] = [
    ['taking the code', (down) => ({ takeBox: (original, key, now) => (down() && key.startsWith('agent-code:') ? broken() : original(key, now)) })],
    ['creating the grant', (down) => ({ createGrant: (original, entry) => (down() && entry.kind === 'agent' ? broken() : original(entry)) })],
    ['issuing the first tokens', (down) => ({ issuePair: (original, pair, now) => (down() ? broken() : original(pair, now)) })],
    ['looking for the replay mark', (down) => ({ takeBox: (original, key, now) => (down() && key.startsWith(MARK) ? broken() : original(key, now)) })],
  ];
  for (const [step, overrides] of faults) {
    it(`a storage fault ${step}: 503, nothing alive`, async () => {
      let failing = false;
      const options: HarnessOptions = { wrapLedger: (ledger) => ledgerWith(ledger, overrides(() => failing)) };
      const { h } = harness(options);
      const request = await agentRequest(await registeredClient(h));
      const code = await allowedCode(h, request);
      failing = true;
      const res = await redeem(h, request, code);
      failing = false;
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(res.headers.get('retry-after')).not.toBeNull();
      expect(await agentsListed(h)).toBe(0);
      // Taking the code failed before it was taken: it may still be redeemed; otherwise it is spent.
      const retry = await redeem(h, request, code);
      expect(retry.status).toBe(step === 'taking the code' ? 200 : 400);
    });
  }
});
