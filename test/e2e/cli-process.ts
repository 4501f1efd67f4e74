/**
 * The command line as a child process, for the end-to-end tests that run it against a
 * gateway (test/e2e/cli-e2e.ts on Workers, test/e2e/deno/command-line.ts on Deno): start
 * it, wait for a line of its output, collect its end, stop whatever a failed test left
 * running, and read the looker.ini it wrote.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.ts';

export const REPOSITORY_CLI = join(ROOT, 'cli', 'looker-oauth-gateway.mjs');
/** Long enough for a slow machine, short enough that a sign-in that never comes back fails the test, not its timeout. */
export const LOGIN_TIMEOUT_SECONDS = 90;
/** What `login --device` prints for the person: the address to open, and the code to type there. */
export const DEVICE_PROMPT = /Open (\S+) in a browser where you can sign in, and enter the code ([A-Z]{4}-[A-Z]{4})/;

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running command: a wait for a line of its output, and its end. */
export interface Command {
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  finished: Promise<Finished>;
}

/** The commands one test file starts, in its working directory, with `node`. */
export class Commands {
  readonly #running = new Set<ChildProcess>();
  readonly #cwd: () => string;

  constructor(cwd: () => string) {
    this.#cwd = cwd;
  }

  /** Starts `node script ...args`, with the environment of the tests but no $BROWSER, plus `env`. */
  start(node: string, script: string, args: string[], env: Record<string, string> = {}): Command {
    const { BROWSER: _ignored, ...inherited } = process.env;
    const child = spawn(node, [script, ...args], {
      cwd: this.#cwd(),
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const finished = new Promise<Finished>((done) => child.on('close', (code) => done({ code, stdout, stderr })));
    return {
      async waitForStderr(pattern, timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const match = pattern.exec(stderr);
          if (match !== null) return match;
          if (child.exitCode !== null || Date.now() > deadline) {
            throw new Error(`No ${pattern} in the command's output (${child.exitCode === null ? 'still running' : `exit ${child.exitCode}`}):\n${stderr}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      finished,
    };
  }

  /** Ends every command still running (a failed test may leave one waiting for a browser): each one is this file's own child. */
  async stopAll(): Promise<void> {
    for (const child of this.#running) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    this.#running.clear();
  }
}

/** The address the command prints for the browser (on a line of its own, indented). */
export async function printedAddress(command: Command): Promise<string> {
  return (await command.waitForStderr(/^ {2}(http:\/\/\S+\/cli\/authorize\?\S+)$/m))[1]!;
}

/** The signed-in credential as looker.ini holds it. */
export interface IniCredential {
  baseUrl: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
}

export function readIniSection(path: string, section: string): IniCredential {
  let current = '';
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const header = /^\s*\[([^\]]*)\]/.exec(line);
    if (header !== null) current = header[1]!;
    const entry = /^\s*([^=;#\s]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (entry !== null && current === section) values.set(entry[1]!, entry[2]!);
  }
  return { baseUrl: values.get('base_url'), clientId: values.get('client_id'), clientSecret: values.get('client_secret') };
}
