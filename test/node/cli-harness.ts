/**
 * What the command-line client's tests share: a fake gateway (a node:http server that
 * implements the gateway's side of the CLI contract and records every request), a way to
 * run the real CLI as a child process and watch its output, and a stand-in for the
 * browser. Nothing here talks to a real gateway or opens a real browser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'cli', 'looker-oauth-gateway.mjs');

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
  at: number;
}

export interface FakeCredential {
  clientId: string;
  clientSecret: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  revoked: boolean;
}

/** One answer of the device flow's token endpoint, in order; 'drop' closes the connection unanswered. */
export type DeviceStep = 'pending' | 'slow_down' | 'expired_token' | 'access_denied' | 'success' | 'drop';

export const USER = { id: '42', display_name: 'Dana Demo', email: 'dana@example.com' };
export const USER_CODE = 'WDJB-MJHT';

const DAY = 86_400_000;

export class FakeGateway {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly credentials = new Map<string, FakeCredential>();
  /** Access tokens from /api/4.0/login that are still valid, to the client_id they act for. */
  readonly tokens = new Map<string, string>();
  /** What /cli/authorize sends the browser back with. */
  authorize: 'approve' | { error: string; error_description?: string } = 'approve';
  /** Replaces the answer to an authorization_code grant (e.g. a 400). */
  tokenAnswer: { status: number; body: unknown } | undefined;
  /** Replaces the answer to /cli/revoke. */
  revokeAnswer: { status: number; body: unknown } | undefined;
  device = { steps: [] as DeviceStep[], expiresIn: 600, interval: 1 as number | undefined };
  /** How long credentials issued from now on stay valid. */
  lifetimeMs = 90 * DAY;
  /** If set, every request is answered with a 307 to this address (a misconfigured proxy). */
  redirectTo: string | undefined;

  private readonly codes = new Map<string, { challenge: string; redirectUri: string; name: string }>();
  private readonly issuedByToken = new Set<string>();
  private server: Server | undefined;
  private issued = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }

  /** A credential as if issued by an earlier sign-in. */
  issue(name = 'laptop', lifetimeMs = this.lifetimeMs): FakeCredential {
    this.issued += 1;
    const credential: FakeCredential = {
      clientId: `lgwc_${this.issued}${randomBytes(6).toString('hex')}`,
      clientSecret: `lgws_${randomBytes(24).toString('base64url')}`,
      name,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + lifetimeMs).toISOString(),
      revoked: false,
    };
    this.credentials.set(credential.clientId, credential);
    return credential;
  }

  /** The one credential issued through /cli/token (fails the test if there is not exactly one). */
  issuedThroughToken(): FakeCredential {
    const live = [...this.credentials.values()].filter((c) => this.issuedByToken.has(c.clientId));
    if (live.length !== 1) throw new Error(`expected one credential issued by /cli/token, got ${live.length}`);
    return live[0]!;
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', this.url);
    const body = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      form: new URLSearchParams(request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body : ''),
      at: Date.now(),
    };
    this.requests.push(recorded);
    if (this.redirectTo) {
      response.writeHead(307, { location: this.redirectTo + recorded.url }).end();
      return;
    }
    const route = `${recorded.method} ${recorded.path}`;
    switch (route) {
      case 'GET /healthz':
        return json(response, 200, { status: 'ok', version: 'fake' });
      case 'GET /cli/authorize':
        return this.authorizePage(recorded, response);
      case 'POST /cli/token':
        return this.token(recorded, response);
      case 'POST /cli/device/code':
        return json(response, 200, {
          device_code: 'device-code-1',
          user_code: USER_CODE,
          verification_uri: `${this.url}/cli/device`,
          verification_uri_complete: `${this.url}/cli/device?user_code=${USER_CODE}`,
          expires_in: this.device.expiresIn,
          ...(this.device.interval === undefined ? {} : { interval: this.device.interval }),
        });
      case 'POST /cli/revoke':
        return this.revoke(recorded, response);
      case 'POST /api/4.0/login':
        return this.apiLogin(recorded, response);
      case 'GET /cli/credential':
        return this.credentialInfo(recorded, response);
      case 'DELETE /api/4.0/logout': {
        const token = bearer(recorded);
        if (!token || !this.tokens.delete(token)) return json(response, 404, { message: 'Not found' });
        response.writeHead(204).end();
        return;
      }
      default:
        return json(response, 404, { message: 'Not found' });
    }
  }

  /** The gateway's browser side, reduced to its outcome: a redirect back to the CLI. */
  private authorizePage(request: RecordedRequest, response: ServerResponse): void {
    const q = request.query;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !redirectUri) {
      return json(response, 400, { error: 'invalid_request' });
    }
    const back = new URL(redirectUri);
    if (this.authorize === 'approve') {
      const code = `code-${randomBytes(8).toString('hex')}`;
      this.codes.set(code, { challenge: q.get('code_challenge') ?? '', redirectUri, name: q.get('name') ?? '' });
      back.searchParams.set('code', code);
    } else {
      back.searchParams.set('error', this.authorize.error);
      if (this.authorize.error_description) back.searchParams.set('error_description', this.authorize.error_description);
    }
    back.searchParams.set('state', q.get('state') ?? '');
    response.writeHead(302, { location: back.href }).end();
  }

  private token(request: RecordedRequest, response: ServerResponse): void {
    const form = request.form;
    if (form.get('grant_type') === 'authorization_code') {
      if (this.tokenAnswer) return json(response, this.tokenAnswer.status, this.tokenAnswer.body);
      const grant = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (!grant || grant.challenge !== challenge || grant.redirectUri !== form.get('redirect_uri')) {
        return json(response, 400, { error: 'invalid_grant', error_description: 'The code is unknown, used, or does not match its verifier.' });
      }
      return json(response, 200, this.credentialAnswer(this.issueThroughToken(grant.name)));
    }
    if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code' && form.get('device_code') === 'device-code-1') {
      const step = this.device.steps.shift() ?? 'pending';
      switch (step) {
        case 'drop':
          response.socket?.destroy();
          return;
        case 'success':
          return json(response, 200, this.credentialAnswer(this.issueThroughToken('build-server')));
        case 'pending':
          return json(response, 400, { error: 'authorization_pending', error_description: 'Not yet.' });
        default:
          return json(response, 400, { error: step, error_description: `Device flow: ${step}.` });
      }
    }
    return json(response, 400, { error: 'unsupported_grant_type', error_description: 'Unknown grant.' });
  }

  private issueThroughToken(name: string): FakeCredential {
    const credential = this.issue(name);
    this.issuedByToken.add(credential.clientId);
    return credential;
  }

  private credentialAnswer(credential: FakeCredential) {
    return {
      client_id: credential.clientId,
      client_secret: credential.clientSecret,
      name: credential.name,
      expires_at: credential.expiresAt,
      user: USER,
    };
  }

  /** The credential a form's client_id / client_secret name, if it is valid. */
  private credentialFor(form: URLSearchParams): FakeCredential | undefined {
    const credential = this.credentials.get(form.get('client_id') ?? '');
    if (!credential || credential.clientSecret !== form.get('client_secret')) return undefined;
    return credential.revoked || Date.parse(credential.expiresAt) <= Date.now() ? undefined : credential;
  }

  private revoke(request: RecordedRequest, response: ServerResponse): void {
    if (this.revokeAnswer) return json(response, this.revokeAnswer.status, this.revokeAnswer.body);
    const credential = this.credentialFor(request.form);
    if (credential) credential.revoked = true;
    json(response, 200, { revoked: credential !== undefined });
  }

  private apiLogin(request: RecordedRequest, response: ServerResponse): void {
    const credential = this.credentialFor(request.form);
    if (!credential) return json(response, 404, { message: 'Not found', documentation_url: 'https://cloud.google.com/looker/docs/' });
    const token = `tok_${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, credential.clientId);
    json(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
  }

  private credentialInfo(request: RecordedRequest, response: ServerResponse): void {
    const credential = this.credentials.get(this.tokens.get(bearer(request) ?? '') ?? '');
    if (!credential) return json(response, 401, { message: 'Requires authentication.' });
    json(response, 200, {
      client_id: credential.clientId,
      name: credential.name,
      created_at: credential.createdAt,
      expires_at: credential.expiresAt,
      last_used_at: new Date().toISOString(),
      user: USER,
    });
  }
}

function bearer(request: RecordedRequest): string | undefined {
  const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startFakeGateway(): Promise<FakeGateway> {
  return new FakeGateway().start();
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lgw-cli-'));
}

export interface CliExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr, waiting for it if need be. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exit: Promise<CliExit>;
}

export interface CliOptions {
  cwd: string;
  /** Added to a minimal environment; undefined removes a variable. BROWSER is never inherited. */
  env?: Record<string, string | undefined>;
  /** The Node that runs the CLI (default: the one running the tests). */
  node?: string;
}

/** Starts the real CLI as its own process. */
export function startCli(args: string[], options: CliOptions): RunningCli {
  const env: Record<string, string> = {};
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...options.env };
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  const child = spawn(options.node ?? process.execPath, [CLI, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    for (const watcher of watchers) watcher();
  });
  const exit = new Promise<CliExit>((done) => child.on('close', (code) => done({ code, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    waitForStderr(pattern, timeoutMs = 10_000) {
      return new Promise((found, fail) => {
        const check = () => {
          const match = pattern.exec(stderr);
          if (!match) return false;
          cleanup();
          found(match);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          fail(new Error(`stderr never matched ${pattern} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        const ended = () => {
          if (check()) return;
          cleanup();
          fail(new Error(`the CLI exited before stderr matched ${pattern}:\n${stderr}${stdout}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(watcher);
          child.off('close', ended);
        };
        const watcher = () => void check();
        if (check()) return;
        watchers.add(watcher);
        child.once('close', ended);
      });
    },
  };
}

/** Runs the CLI to the end. */
export function runCli(args: string[], options: CliOptions): Promise<CliExit> {
  return startCli(args, options).exit;
}

/** The sign-in address the CLI printed. */
export const AUTHORIZE_URL = /(http:\/\/127\.0\.0\.1:\d+\/cli\/authorize\?\S+)/;

/**
 * Plays the browser: opens the sign-in address at the (fake) gateway and follows its
 * redirect to the CLI's loopback server. Returns the loopback's answer.
 */
export async function playBrowser(authorizeUrl: string): Promise<{ status: number; body: string; headers: Headers }> {
  const atGateway = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = atGateway.headers.get('location');
  if (atGateway.status !== 302 || !location) throw new Error(`the gateway answered ${atGateway.status}, not a redirect`);
  return visit(location);
}

export async function visit(url: string, init?: RequestInit): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** A fresh fake gateway and working directory for each test of the file that calls this (hands them over through `use`). */
export function withFakeGatewayEachTest(use: (gateway: FakeGateway, cwd: string) => void): void {
  let gateway: FakeGateway | undefined;
  beforeEach(async () => {
    gateway = await startFakeGateway();
    use(gateway, tempDir());
  });
  afterEach(async () => {
    await gateway?.close();
  });
}
