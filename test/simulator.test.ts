import { describe, expect, it } from 'vitest';
import { createS256CodeChallenge, generateCodeVerifier } from '../src/looker/oauth.ts';
import { createLookerSimulator } from '../sim/simulator.ts';

const REDIRECT = 'https://gw.test/callback';

function authorizeUrl(overrides: Record<string, string | null> = {}, verifier = 'v'.repeat(43)) {
  const url = new URL('https://looker.test/auth');
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: REDIRECT,
    scope: 'cors_api',
    state: 'st',
    code_challenge: createS256CodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.href;
}

async function getCode(sim: ReturnType<typeof createLookerSimulator>, verifier: string) {
  const res = await sim.fetch(authorizeUrl({}, verifier));
  return new URL(res.headers.get('location')!).searchParams.get('code')!;
}

function tokenRequest(sim: ReturnType<typeof createLookerSimulator>, body: Record<string, string>, json = false, headers: Record<string, string> = {}) {
  return sim.fetch('https://looker.test/api/token', {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json;charset=UTF-8' : 'application/x-www-form-urlencoded', ...headers },
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });
}

describe('Looker simulator', () => {
  const make = (extra = {}) => createLookerSimulator({ clientId: 'app', redirectUris: [REDIRECT], autoApprove: true, ...extra });

  it('/auth refuses an unknown client or redirect_uri without redirecting', async () => {
    const sim = make();
    for (const bad of [{ client_id: 'other' } as Record<string, string>, { redirect_uri: 'https://evil.example/callback' }, { redirect_uri: `${REDIRECT}/` }]) {
      const res = await sim.fetch(authorizeUrl(bad));
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('/auth without PKCE S256 redirects back with invalid_request', async () => {
    const sim = make();
    const res = await sim.fetch(authorizeUrl({ code_challenge_method: 'plain' }));
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('accepts JSON and form token requests; checks PKCE; codes are single-use', async () => {
    const sim = make();
    for (const json of [false, true]) {
      const verifier = generateCodeVerifier();
      const code = await getCode(sim, verifier);
      const base = { grant_type: 'authorization_code', code, client_id: 'app', redirect_uri: REDIRECT };
      const wrong = await tokenRequest(sim, { ...base, code_verifier: generateCodeVerifier() }, json);
      expect(wrong.status).toBe(400);
      // A failed attempt burns the code, as a careful server does.
      const code2 = await getCode(sim, verifier);
      const ok = await tokenRequest(sim, { ...base, code: code2, code_verifier: verifier }, json);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as Record<string, unknown>;
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(3600);
      expect(typeof body.refresh_token).toBe('string');
      const again = await tokenRequest(sim, { ...base, code: code2, code_verifier: verifier }, json);
      expect(again.status).toBe(400);
    }
  });

  it('refuses Basic authentication, like Looker', async () => {
    const sim = make();
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const res = await tokenRequest(
      sim,
      { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT },
      false,
      { authorization: 'Basic YXBwOg==' },
    );
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Failed Basic Authentication');
  });

  it('rotating refresh tokens are single-use', async () => {
    const sim = make({ refreshTokenMode: 'rotate' });
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const first = (await (await tokenRequest(sim, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT })).json()) as { refresh_token: string };
    const refresh = (t: string) => tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: t, client_id: 'app', redirect_uri: REDIRECT });
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect((await refresh(first.refresh_token)).status).toBe(400);
  });

  it('API: 401 without a token, the user with one, versions without', async () => {
    const sim = make();
    const unauth = await sim.fetch('https://looker.test/api/4.0/user');
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({ message: 'Requires authentication.' });
    const versions = await sim.fetch('https://looker.test/api/4.0/versions');
    expect(versions.status).toBe(200);
    expect(await versions.json()).toMatchObject({ api_server_url: 'https://looker.test', web_server_url: 'https://looker.test' });
  });

  it('streams a large download with a content-length', async () => {
    const sim = make();
    const verifier = generateCodeVerifier();
    const code = await getCode(sim, verifier);
    const { access_token } = (await (await tokenRequest(sim, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'app', redirect_uri: REDIRECT })).json()) as { access_token: string };
    const res = await sim.fetch('https://looker.test/api/4.0/download?bytes=1000000', { headers: { authorization: `Bearer ${access_token}` } });
    expect(res.headers.get('content-length')).toBe('1000000');
    expect((await res.arrayBuffer()).byteLength).toBe(1_000_000);
  });
});
