/**
 * The Looker simulator in its own Node process (`npm run sim`'s script), so that serving
 * Looker's side costs the load generator nothing; and a bearer token from it for the
 * Workers that take one (the direct calls and the bare Worker).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

export interface RunningSimulator {
  origin: string;
  pid: number;
  stop(): void;
}

export interface SimulatorSetup {
  root: string;
  port: number;
  clientId: string;
  redirectUris: readonly string[];
}

export function startSimulator(setup: SimulatorSetup): Promise<RunningSimulator> {
  const args = [join(setup.root, 'scripts/sim.mjs'), '--port', String(setup.port), '--auto-approve', '--client-id', setup.clientId];
  for (const uri of setup.redirectUris) args.push('--redirect-uri', uri);
  // A day, so that no token expires during a run and no refresh is measured.
  args.push('--access-token-ttl', '86400');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => child.kill();
  process.on('exit', stop);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the Looker simulator exited before listening (code ${code})`)));
    // It prints one line once it listens.
    child.stdout.once('data', () => {
      if (child.pid === undefined) return reject(new Error('the Looker simulator has no process id'));
      resolve({ origin: `http://127.0.0.1:${setup.port}`, pid: child.pid, stop });
    });
  });
}

/** The redirect URI the benchmark's own token requests use; no one listens there. */
export const TOKEN_REDIRECT_URI = 'http://bench.invalid/callback';

/** An access token from the simulator, by the same PKCE flow a browser goes through. */
export async function accessToken(simulator: string, clientId: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(`${simulator}/auth`);
  const query = { response_type: 'code', client_id: clientId, redirect_uri: TOKEN_REDIRECT_URI, scope: 'cors_api', state: 's', code_challenge: challenge, code_challenge_method: 'S256' };
  for (const [name, value] of Object.entries(query)) auth.searchParams.set(name, value);
  const approved = await fetch(auth, { redirect: 'manual' });
  const code = new URL(approved.headers.get('location') ?? '', simulator).searchParams.get('code');
  if (code === null) throw new Error(`the simulator's /auth gave no code (status ${approved.status})`);
  const answer = await fetch(`${simulator}/api/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: TOKEN_REDIRECT_URI }),
  });
  const body: unknown = await answer.json();
  const token = typeof body === 'object' && body !== null && 'access_token' in body ? body.access_token : undefined;
  if (!answer.ok || typeof token !== 'string') throw new Error(`the simulator's /api/token gave no access token (status ${answer.status})`);
  return token;
}
