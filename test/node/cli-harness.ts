/**
 * What the command-line client's tests share: the command run in-process (its `main`, with
 * fetch, the clock, sleep and the browser opener injected) against the REAL gateway — the
 * run's shared `npm run dev` gateway and Looker simulator — a record of every request it
 * made and of every answer, a way to inject faults the real gateway cannot produce (a 500,
 * a dropped connection), and a person who plays the browser (test/node/person.ts).
 * Nothing sleeps for real: the command's waits go through the test's `sleep`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeEach } from 'vitest';
import { main } from '../../cli/looker-oauth-gateway.mjs';
import { sharedDevGateway } from '../e2e/harness.ts';
import { Person } from './person.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'cli', 'looker-oauth-gateway.mjs');

/** The simulator's user, as the gateway reports them. */
export const USER = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
export const DAY = 86_400_000;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  headers: Headers;
  form: URLSearchParams;
  /** The answer's status and JSON body (undefined when the request failed or the body was not JSON). */
  status?: number;
  json?: unknown;
}

/**
 * Sees each request before it goes out: answer it (a Response), fail it (throw), or pass
 * it on with `forward` (possibly changed) and return what comes back (possibly changed).
 */
export type Intercept = (request: RecordedRequest, forward: (form?: URLSearchParams) => Promise<Response>) => Promise<Response>;

export interface CliExit {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr, waiting for it if need be. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exit: Promise<CliExit>;
}

export interface CliOptions {
  /** The environment the command sees (nothing is inherited). */
  env?: Record<string, string | undefined>;
  /** Replaces the browser opener (default: the command's own, which runs $BROWSER or xdg-open). */
  openBrowser?: (url: string) => void;
  /** The loopback sign-in's timeout passes at once (default: it never passes). */
  loopbackTimesOut?: boolean;
}

/** A fresh working directory and record per test; the gateway is the run's shared one. */
export class CliFixture {
  readonly gateway: string;
  readonly simUrl: string;
  readonly cwd: string;
  readonly requests: RecordedRequest[] = [];
  /** Every sleep the command asked for, in ms, but the loopback's timeout. */
  readonly sleeps: number[] = [];
  readonly person = new Person();
  /** The command's clock (ms); only sleeps and the test move it. */
  clock = Date.now();
  intercept: Intercept | undefined;
  /** Runs before the command's n-th sleep (1-based) ends: the person's part of a device sign-in. */
  onSleep: ((n: number) => void | Promise<void>) | undefined;

  constructor() {
    const shared = sharedDevGateway();
    this.gateway = shared.url;
    this.simUrl = shared.simUrl;
    this.cwd = mkdtempSync(join(tmpdir(), 'lgw-cli-'));
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  /** Starts the command in-process. */
  start(args: string[], options: CliOptions = {}): RunningCli {
    let stdout = '';
    let stderr = '';
    const watchers = new Set<() => void>();
    let ended = false;
    const exit = main(args, {
      fetch: (input, init) => this.fetch(input, init),
      now: () => this.clock,
      sleep: (ms, signal) => this.sleep(ms, signal, options.loopbackTimesOut ?? false),
      ...(options.openBrowser === undefined ? {} : { openBrowser: (url: string) => options.openBrowser?.(url) }),
      env: { ...options.env },
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
        for (const watcher of watchers) watcher();
      },
      cwd: this.cwd,
      program: 'looker-oauth-gateway',
    }).then((code) => {
      ended = true;
      for (const watcher of watchers) watcher();
      return { code, stdout, stderr };
    });
    return {
      stdout: () => stdout,
      stderr: () => stderr,
      exit,
      waitForStderr(pattern, timeoutMs = 10_000) {
        return new Promise((found, fail) => {
          const timer = setTimeout(() => {
            watchers.delete(check);
            fail(new Error(`stderr never matched ${pattern} within ${timeoutMs} ms:\n${stderr}`));
          }, timeoutMs);
          function check() {
            const match = pattern.exec(stderr);
            if (match === null && !ended) return;
            clearTimeout(timer);
            watchers.delete(check);
            if (match !== null) found(match);
            else fail(new Error(`the command ended before stderr matched ${pattern}:\n${stderr}${stdout}`));
          }
          watchers.add(check);
          check();
        });
      },
    };
  }

  /** Runs the command to the end. */
  run(args: string[], options: CliOptions = {}): Promise<CliExit> {
    return this.start(args, options).exit;
  }

  /**
   * A loopback sign-in from start to end: the command with --no-open, the person at the
   * address it printed (Allow, Allow unless told), and the command's exit.
   */
  async signIn(args: string[] = [], options: CliOptions & { atLooker?: 'Allow' | 'Deny'; atGateway?: 'Allow' | 'Deny' } = {}) {
    const cli = this.start(['login', this.gateway, '--no-open', ...args], options);
    const [address = ''] = await cli.waitForStderr(AUTHORIZE_URL);
    const page = await this.person.signIn(address, options.atLooker, options.atGateway);
    return { url: new URL(address), page, exit: await cli.exit };
  }

  /** A credential issued by a sign-in of its own (through --print-env, so nothing is written). */
  async issueCredential(name = 'laptop'): Promise<{ clientId: string; clientSecret: string }> {
    const { exit } = await this.signIn(['--print-env', '--name', name]);
    const clientId = /LOOKERSDK_CLIENT_ID='([^']+)'/.exec(exit.stdout)?.[1];
    const clientSecret = /LOOKERSDK_CLIENT_SECRET='([^']+)'/.exec(exit.stdout)?.[1];
    if (exit.code !== 0 || clientId === undefined || clientSecret === undefined) throw new Error(`No credential:\n${exit.stderr}`);
    this.requests.length = 0;
    return { clientId, clientSecret };
  }

  /** The credential the command got from POST /cli/token (fails the test without exactly one). */
  issuedThroughToken(): { clientId: string; clientSecret: string; name: string } {
    const issued = this.requestsTo('POST', '/cli/token').filter((r) => r.status === 200);
    if (issued.length !== 1) throw new Error(`expected one credential issued by /cli/token, got ${issued.length}`);
    const body = issued[0]!.json as { client_id: string; client_secret: string; name: string };
    return { clientId: body.client_id, clientSecret: body.client_secret, name: body.name };
  }

  /** Whether the gateway still lets the credential log in (as an SDK would). */
  async isLive(credential: { clientId: string; clientSecret: string }): Promise<boolean> {
    const answer = await fetch(`${this.gateway}/api/4.0/login`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: credential.clientId, client_secret: credential.clientSecret }),
    });
    await answer.body?.cancel();
    if (answer.status !== 200 && answer.status !== 404) throw new Error(`login answered ${answer.status}`);
    return answer.status === 200;
  }

  /** Revokes a credential directly, as its owner could on Your access. */
  async revoke(credential: { clientId: string; clientSecret: string }): Promise<void> {
    const answer = await fetch(`${this.gateway}/cli/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: credential.clientId, client_secret: credential.clientSecret }),
    });
    expectRevoked((await answer.json()) as { revoked?: unknown });
  }

  /**
   * The address the gateway sees this test's command at (wrangler dev passes the header on,
   * as Cloudflare would set it), in a /64 of its own: the gateway's per-network limits on
   * device sign-ins are then this test's alone, not shared with every other test of the run.
   */
  readonly clientAddress = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;

  private async fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', this.clientAddress);
    init = { ...init, headers };
    const body = init.body;
    const recorded: RecordedRequest = {
      method: init.method ?? 'GET',
      url: url.pathname + url.search,
      path: url.pathname,
      headers: new Headers(init.headers),
      form: new URLSearchParams(body instanceof URLSearchParams ? body : undefined),
    };
    this.requests.push(recorded);
    const forward = async (form?: URLSearchParams) => {
      const sent = await fetch(url, form === undefined ? init : { ...init, body: form });
      // Recorded from a copy, so that the command reads the answer as it came.
      const text = await sent.clone().text();
      recorded.status = sent.status;
      try {
        recorded.json = JSON.parse(text) as unknown;
      } catch {
        recorded.json = undefined;
      }
      return sent;
    };
    return this.intercept === undefined ? forward() : this.intercept(recorded, forward);
  }

  private async sleep(ms: number, signal: AbortSignal | undefined, loopbackTimesOut: boolean): Promise<void> {
    if (signal !== undefined) {
      // The loopback sign-in's timeout: it passes at once, or never (until the command ends it).
      if (loopbackTimesOut) return;
      return new Promise((done) => signal.addEventListener('abort', () => done()));
    }
    this.sleeps.push(ms);
    this.clock += ms;
    await this.onSleep?.(this.sleeps.length);
  }
}

function expectRevoked(body: { revoked?: unknown }): void {
  if (typeof body.revoked !== 'boolean') throw new Error(`/cli/revoke answered ${JSON.stringify(body)}`);
}

/** A CliFixture for each test of the file that calls this (handed over through `use`). */
export function withCliEachTest(use: (fixture: CliFixture) => void): void {
  beforeEach(() => {
    use(new CliFixture());
  });
}

/** A JSON answer, as the gateway gives them. */
export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** An address on this machine where nothing listens. */
export function closedPort(): Promise<string> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? done(`http://127.0.0.1:${address.port}`) : fail(new Error('no port'))));
    });
  });
}

/** The sign-in address the command printed. */
export const AUTHORIZE_URL = /(http:\/\/localhost:\d+\/cli\/authorize\?\S+)/;
/** What the device sign-in prints: the address to open and the code to type. */
export const DEVICE_PROMPT = /Open (\S+) in a browser where you can sign in, and enter the code ([A-Z0-9]{4}-[A-Z0-9]{4})/;

export async function visit(url: string, init?: RequestInit): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** The local date of `ms`, as the default credential names carry it. */
export function localDate(ms: number): string {
  const day = new Date(ms);
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
}
