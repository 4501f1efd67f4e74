#!/usr/bin/env node
// @ts-check
// looker-oauth-gateway: sign in to Looker once, in a browser, through a looker-oauth-gateway,
// and keep the gateway-issued client_id / client_secret in looker.ini, where the Looker SDKs
// look. No Looker API key is ever written to disk.
//
// One file, nothing outside Node's built-ins, on purpose: the gateway serves this very file
// as GET /cli.mjs, so `curl -fsSL https://gw/cli.mjs -o lgw.mjs && node lgw.mjs login https://gw`
// works on a machine that has Node ≥ 20 and nothing else. Keep it that way (no TypeScript
// syntax, no imports outside `node:`, nothing newer than Node 20).
//
// Output: stdout carries a command's result only (the status line, a token, export lines),
// so it can be captured; progress, questions and errors go to stderr.
//
// Everything that reaches outside (fetch, the clock, sleeping, opening a browser, the
// environment, stdout and stderr, the working directory) is passed to `main` as `Io`, with
// the real ones as defaults when this file runs as a program; the tests run it in-process.

import { spawn } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const VERSION = '0.1.0';
const PROGRAM = 'looker-oauth-gateway';
const USER_AGENT = `${PROGRAM}-cli/${VERSION} node/${process.versions.node}`;

const DEFAULT_INI = './looker.ini';
const DEFAULT_SECTION = 'Looker';
/** The scope a read-only credential asks for (the gateway's looker:read). */
const READ_SCOPE = 'looker:read';
const DEFAULT_TIMEOUT_SECONDS = 300;
// setTimeout fires at once beyond 2^31-1 ms (about 24.8 days); a day is plenty for a sign-in.
const MAX_TIMEOUT_SECONDS = 86_400;
const HTTP_TIMEOUT_MS = 30_000;
// RFC 8628 §3.2 (interval defaults to 5 s) and §3.5 (slow_down adds 5 s). A floor of 1 s keeps
// a gateway that answers `interval: 0` from being polled in a tight loop.
const DEVICE_DEFAULT_INTERVAL_SECONDS = 5;
const DEVICE_SLOW_DOWN_SECONDS = 5;
const DEVICE_MIN_INTERVAL_SECONDS = 1;

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

// ─── Help ────────────────────────────────────────────────────────────────────────────────

const COMMON_OPTIONS = `Options for every command
  --ini PATH        The ini file (default ${DEFAULT_INI}, where the Looker SDKs look by default)
  --section NAME    Its section (default ${DEFAULT_SECTION})
  -h, --help        Show help`;

/**
 * The help texts, with the command as the person runs it (`node lgw.mjs` for the copy the
 * gateway serves, `looker-oauth-gateway` as the package's bin).
 * @param {string} program @returns {Record<string, string>}
 */
const helpTexts = (program) => ({
  main: `${PROGRAM} ${VERSION}: sign in to Looker once, in a browser, and use the Looker SDKs
through a looker-oauth-gateway without a Looker API key on disk.

Usage
  ${program} <command> [options]

Commands
  login <gateway-url>   Sign in in a browser; write the credential to looker.ini
  status                Show whom the credential acts as, and until when
  token                 Print a short-lived gateway access token for the Looker API
  logout                Revoke the credential and remove it from looker.ini
  help [command]        Show help for a command

${COMMON_OPTIONS}
  --version         Show the version

Get it from your gateway (one file; Node ≥ 20 and nothing else):
  curl -fsSL https://looker-gateway.example.com/cli.mjs -o lgw.mjs && node lgw.mjs login https://looker-gateway.example.com

Example
  ${program} login https://looker-gateway.example.com
  python -c 'import looker_sdk; print(looker_sdk.init40().me().display_name)'

login writes base_url (the gateway), client_id and client_secret into a section of
looker.ini. Both the Python and the Node SDK read the file's first section unless told
which one: pass it as init40(section="NAME") in Python, or as the third argument of
new NodeSettingsIniFile("LOOKERSDK", "looker.ini", "NAME") in Node. status, token and
logout use the LOOKERSDK_BASE_URL, LOOKERSDK_CLIENT_ID and LOOKERSDK_CLIENT_SECRET
environment variables instead of looker.ini when they are set, as the SDKs do.`,

  login: `Usage
  ${program} login <gateway-url> [options]

Signs you in to Looker through the gateway in your browser, and writes a credential for
the Looker SDKs into looker.ini: base_url (the gateway), client_id, client_secret and
verify_ssl. Other keys, sections and comments in the file stay as they are; the file is
only readable by you (mode 0600). Signing in again renews: the credential the section
held for the same gateway is revoked once the new one is written.

<gateway-url> is the gateway's address: https://…, or http:// for localhost, 127.0.0.1
and [::1] only.

Options
  --name NAME         A name for this credential, shown by status and on the gateway
                      (default: this computer's host name, how it signed in and the
                      date, e.g. "build-server · device · 2026-12-02")
  --no-open           Print the sign-in address instead of opening a browser
  --device            For a machine without a browser: print an address and a code
                      (like XXXX-XXXX) to type in a browser anywhere else
  --read-only         Ask for a read-only credential: it may read Looker data and run
                      queries, but not change anything or use SQL Runner (without it:
                      everything your Looker role allows)
  --print-env         Print LOOKERSDK_* export lines for a shell instead of writing
                      looker.ini (they hold the secret: eval them, do not log them);
                      status, token and logout use the variables once exported
  --timeout SECONDS   How long to wait for the browser (default ${DEFAULT_TIMEOUT_SECONDS})
  --force             Replace a credential for another server in the section (it is
                      not revoked)
${COMMON_OPTIONS}

The browser is $BROWSER if set (a command; the address is added as its last argument),
else the system's default browser.

Examples
  ${program} login https://looker-gateway.example.com
  ${program} login https://looker-gateway.example.com --device --name build-server
  ${program} login https://looker-gateway.example.com --read-only --name dashboards
  eval "$(${program} login https://looker-gateway.example.com --print-env)"`,

  status: `Usage
  ${program} status [options]

Signs in with the credential in looker.ini (or the LOOKERSDK_* environment variables,
when set) and shows where it came from, whom it acts as, its name, whether it is
read-only, and until when it is valid. Exits with status 1 if it no longer works (revoked, expired or unknown).

${COMMON_OPTIONS}`,

  token: `Usage
  ${program} token [options]

Signs in with the credential in looker.ini (or the LOOKERSDK_* environment variables,
when set) and prints a Looker API access token, and nothing else, on stdout. The token
lasts as long as the gateway says (usually an hour).

${COMMON_OPTIONS}

Example
  curl -H "Authorization: Bearer $(${program} token)" https://looker-gateway.example.com/api/4.0/user`,

  logout: `Usage
  ${program} logout [options]

Revokes the credential in looker.ini on the gateway, then removes client_id and
client_secret from the section. The section goes if only base_url and verify_ssl are
left in it (what login added), and the file if nothing is left in it. If the gateway
cannot be reached, or does not revoke, the file is left as it is. With the LOOKERSDK_*
environment variables set, it revokes the credential they hold; unset them yourself.

${COMMON_OPTIONS}`,
});

// ─── Errors and output ───────────────────────────────────────────────────────────────────

/** A failure to report to the person as it is, without a stack trace. */
class CliError extends Error {
  /**
   * @param {string} message
   * @param {number} [exitCode]
   */
  constructor(message, exitCode = EXIT_FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The gateway could not be reached at all (as opposed to answering with an error). */
class NetworkError extends CliError {}

/** A mistake in the command line; `main` adds how to get help for `command`. */
class UsageError extends CliError {
  /** @param {string} message @param {string} [command] */
  constructor(message, command) {
    super(message, EXIT_USAGE);
    this.command = command;
  }
}

/**
 * @param {string} message
 * @param {string} [command]
 */
function usageError(message, command) {
  return new UsageError(message, command);
}

// ─── The outside world ───────────────────────────────────────────────────────────────────

/**
 * What the command reaches outside itself through; `main` takes any of these.
 * @typedef {object} Io
 * @property {typeof fetch} fetch
 * @property {() => number} now  milliseconds since the epoch
 * @property {(ms: number, signal?: AbortSignal) => Promise<void>} sleep  resolves after ms, or at once when signal aborts
 * @property {(url: string, io: Io) => void} openBrowser  starts a browser at url, without waiting for it
 * @property {Record<string, string | undefined>} env
 * @property {(text: string) => void} stdout
 * @property {(text: string) => void} stderr
 * @property {string} cwd  relative --ini paths are taken from here
 * @property {string} hostname  this computer's name, for the credential's default name
 * @property {string} program  how the person runs this command, for the hints it prints
 */

/** @type {Io['sleep']} */
function realSleep(ms, signal) {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/**
 * How the person ran this file: `looker-oauth-gateway` through the package's bin, else
 * `node <file>` (e.g. `node lgw.mjs`, as the gateway's page tells people to save it).
 * @param {string | undefined} script  process.argv[1]
 */
function programName(script) {
  if (!script) return PROGRAM;
  const file = basename(script);
  return file === PROGRAM || file === `${PROGRAM}.mjs` ? PROGRAM : `node ${file}`;
}

/** The real world, for this file run as a program. @returns {Io} */
function realIo() {
  return {
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    sleep: realSleep,
    openBrowser,
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    hostname: hostname(),
    program: programName(process.argv[1]),
  };
}

/** Progress, hints and warnings. @param {Io} io @param {string} text */
function say(io, text) {
  io.stderr(`${text}\n`);
}

/** A command's result, for capture. @param {Io} io @param {string} text */
function result(io, text) {
  io.stdout(`${text}\n`);
}

/** @param {number} count @param {string} noun */
function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Text from the network, fit for a terminal: control characters could move the cursor or
 * rewrite what was printed before.
 * @param {unknown} value
 */
function printable(value) {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

// ─── Command line ────────────────────────────────────────────────────────────────────────

/** @typedef {'login' | 'status' | 'token' | 'logout'} CommandName */

/**
 * @typedef {object} Settings
 * @property {CommandName} command
 * @property {string} ini
 * @property {string} section
 * @property {string} [gateway]  login only: the gateway's origin
 * @property {string} name
 * @property {boolean} open
 * @property {boolean} device
 * @property {boolean} printEnv
 * @property {boolean} readOnly  login only: ask for scope looker:read
 * @property {number} timeoutSeconds
 * @property {boolean} force
 * @property {boolean} fileNamed  whether --ini or --section was given
 */

/** @typedef {{ kind: 'run', settings: Settings } | { kind: 'print', text: string, exitCode: number }} Invocation */

const OPTIONS = /** @type {const} */ ({
  ini: { type: 'string' },
  section: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  name: { type: 'string' },
  'no-open': { type: 'boolean' },
  device: { type: 'boolean' },
  'print-env': { type: 'boolean' },
  'read-only': { type: 'boolean' },
  timeout: { type: 'string' },
  force: { type: 'boolean' },
});

const LOGIN_ONLY_OPTIONS = /** @type {const} */ (['name', 'no-open', 'device', 'print-env', 'read-only', 'timeout', 'force']);
const COMMANDS = new Set(['login', 'status', 'token', 'logout']);

/**
 * @param {string[]} argv @param {Io} io
 * @returns {Invocation}
 */
function parseCommandLine(argv, io) {
  const HELP = helpTexts(io.program);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;

  if (values.version) return { kind: 'print', text: `${PROGRAM} ${VERSION}`, exitCode: EXIT_OK };
  if (command === undefined) {
    return values.help
      ? { kind: 'print', text: HELP.main ?? '', exitCode: EXIT_OK }
      : { kind: 'print', text: `${HELP.main}\n\nNo command given.`, exitCode: EXIT_USAGE };
  }
  if (command === 'help') {
    const topic = rest[0] ?? 'main';
    if (rest.length > 1 || !(topic in HELP)) throw usageError(`No help for "${rest.join(' ')}".`);
    return { kind: 'print', text: HELP[topic] ?? '', exitCode: EXIT_OK };
  }
  if (!COMMANDS.has(command)) throw usageError(`Unknown command "${command}".`);
  const name = /** @type {CommandName} */ (command);
  if (values.help) return { kind: 'print', text: HELP[name] ?? '', exitCode: EXIT_OK };

  if (name !== 'login') {
    const misplaced = LOGIN_ONLY_OPTIONS.find((option) => values[option] !== undefined);
    if (misplaced) throw usageError(`--${misplaced} is an option of login only.`, name);
    if (rest.length > 0) throw usageError(`${name} takes no arguments (got "${rest.join(' ')}").`, name);
  }

  const settings = {
    command: name,
    ini: checkIniPath(values.ini ?? DEFAULT_INI),
    section: checkSectionName(values.section ?? DEFAULT_SECTION),
    name: '',
    open: true,
    device: false,
    printEnv: false,
    readOnly: false,
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
    force: false,
    fileNamed: values.ini !== undefined || values.section !== undefined,
  };
  if (name !== 'login') return { kind: 'run', settings };

  if (rest.length === 0) throw usageError('login needs the gateway\'s address, e.g. https://looker-gateway.example.com', 'login');
  if (rest.length > 1) throw usageError(`login takes one address (got "${rest.join(' ')}").`, 'login');
  if (values.device && (values['no-open'] || values.timeout !== undefined)) {
    throw usageError('--no-open and --timeout are for the browser sign-in; --device waits as long as its code is valid.', 'login');
  }
  return {
    kind: 'run',
    settings: {
      ...settings,
      gateway: gatewayOrigin(rest[0] ?? '', (message) => usageError(message, 'login')),
      name: values.name === undefined ? defaultCredentialName(io, values.device ? 'device' : 'browser') : checkCredentialName(values.name),
      open: !values['no-open'],
      device: values.device ?? false,
      printEnv: values['print-env'] ?? false,
      readOnly: values['read-only'] ?? false,
      timeoutSeconds: values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : checkTimeout(values.timeout),
      force: values.force ?? false,
    },
  };
}

/**
 * What a credential is called unless --name says: this computer, how it signed in, and
 * the day (local time), so that a person can tell their credentials apart on the gateway,
 * e.g. "build-server · device · 2026-12-02". The gateway keeps 64 characters at most.
 * @param {Io} io @param {'browser' | 'device'} how
 */
function defaultCredentialName(io, how) {
  const day = new Date(io.now());
  const date = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
  const machine = printable(io.hostname).trim().slice(0, 40) || 'cli';
  return `${machine} · ${how} · ${date}`;
}

/** @param {string} path */
function checkIniPath(path) {
  if (path.trim() === '') throw usageError('--ini needs a file path.');
  return path;
}

/** @param {string} name */
function checkSectionName(name) {
  // A name with brackets or line breaks could not be written back as a [section] line.
  if (name.trim() !== name || name === '' || /[[\]\r\n]/.test(name)) {
    throw usageError(`--section "${printable(name)}" is not a usable section name.`);
  }
  return name;
}

/** @param {string} name */
function checkCredentialName(name) {
  const trimmed = name.trim();
  if (trimmed === '' || /[\u0000-\u001f\u007f]/.test(trimmed)) throw usageError('--name needs a name (printable text).', 'login');
  return trimmed;
}

/** @param {string} value */
function checkTimeout(value) {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) {
    throw usageError(`--timeout needs a number of seconds between 1 and ${MAX_TIMEOUT_SECONDS} (got "${value}").`, 'login');
  }
  return seconds;
}

/**
 * The gateway's origin: https, or plain http for this machine only (a development
 * gateway); anything else would send credentials in the clear.
 * @param {string} input
 * @param {(message: string) => Error} fail
 */
function gatewayOrigin(input, fail) {
  let url;
  if (!input.includes('://')) {
    const host = printable(input);
    const local = /^(localhost|127\.0\.0\.1|\[::1\])(:|$)/.test(input);
    throw fail(`"${host}" has no scheme: give the whole address, e.g. ${local ? 'http' : 'https'}://${host}`);
  }
  try {
    url = new URL(input);
  } catch {
    throw fail(`"${printable(input)}" is not an address; give the gateway's, e.g. https://looker-gateway.example.com`);
  }
  if (url.username || url.password) throw fail('The gateway\'s address must not contain a user name or password.');
  if (url.protocol === 'https:') return url.origin;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return url.origin;
    throw fail(`http:// is only for a gateway on this machine (localhost, 127.0.0.1, [::1]); use https://${url.host}`);
  }
  throw fail(`"${printable(input)}" is not an https:// address.`);
}

// ─── looker.ini ──────────────────────────────────────────────────────────────────────────
// Edited line by line, so that everything the person wrote (comments, order, spacing,
// other sections) survives; only the lines of the keys we set or remove change.

/** @typedef {{ lines: string[], eol: string, bom: boolean }} IniDocument */
/** @typedef {{ header: number, end: number }} SectionRange  lines [header, end) */

const SECTION_LINE = /^\s*\[([^\]]*)\]\s*(?:[;#].*)?$/;
const COMMENT_LINE = /^\s*[;#]/;
const KEY_LINE = /^\s*([^=\s;#[][^=]*?)\s*=\s*(.*?)\s*$/;

/**
 * Characters that every SDK reads back unchanged from a bare value: Python's configparser
 * treats % as interpolation, the Node SDK's ini parser treats ; and # as comments, both
 * strip quotes and surrounding spaces.
 */
const INI_SAFE_VALUE = /^[A-Za-z0-9._~+/=:@!$*,^|{}-]+$/;

/** @param {string} text @returns {IniDocument} */
function parseIni(text) {
  const bom = text.startsWith('\uFEFF');
  const body = bom ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return { lines, eol: body.includes('\r\n') ? '\r\n' : '\n', bom };
}

/** @param {IniDocument} doc */
function formatIni(doc) {
  return (doc.bom ? '\uFEFF' : '') + doc.lines.map((line) => line + doc.eol).join('');
}

/** @param {IniDocument} doc @param {string} name @returns {SectionRange | undefined} */
function findSection(doc, name) {
  const header = doc.lines.findIndex((line) => SECTION_LINE.exec(line)?.[1]?.trim() === name);
  if (header === -1) return undefined;
  let end = header + 1;
  while (end < doc.lines.length && !SECTION_LINE.test(doc.lines[end] ?? '')) end++;
  return { header, end };
}

/** @param {string} line @returns {[key: string, value: string] | undefined} */
function keyValue(line) {
  if (COMMENT_LINE.test(line) || SECTION_LINE.test(line)) return undefined;
  const match = KEY_LINE.exec(line);
  return match ? [(match[1] ?? '').toLowerCase(), unquote(match[2] ?? '')] : undefined;
}

/** @param {string} value */
function unquote(value) {
  const first = value[0];
  return value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first) ? value.slice(1, -1) : value;
}

/**
 * A section's keys (lower-cased, as configparser reads them) and values.
 * @param {IniDocument} doc @param {string} name @returns {Map<string, string> | undefined}
 */
function readSection(doc, name) {
  const range = findSection(doc, name);
  if (!range) return undefined;
  const values = new Map();
  for (const line of doc.lines.slice(range.header + 1, range.end)) {
    const entry = keyValue(line);
    if (entry && !values.has(entry[0])) values.set(entry[0], entry[1]);
  }
  return values;
}

/** @param {IniDocument} doc @param {SectionRange} range @param {string} key */
function keyLines(doc, range, key) {
  const found = [];
  for (let i = range.header + 1; i < range.end; i++) {
    if (keyValue(doc.lines[i] ?? '')?.[0] === key) found.push(i);
  }
  return found;
}

/**
 * Sets keys in a section, in place where they were (a duplicate would make Python's
 * configparser refuse the file), after the section's last key where they were not.
 * @param {IniDocument} doc @param {string} name @param {Array<[string, string]>} entries
 */
function setKeys(doc, name, entries) {
  const range = findSection(doc, name);
  if (!range) {
    while (doc.lines.length > 0 && (doc.lines.at(-1) ?? '').trim() === '') doc.lines.pop();
    if (doc.lines.length > 0) doc.lines.push('');
    doc.lines.push(`[${name}]`, ...entries.map(([key, value]) => `${key}=${value}`));
    return;
  }
  for (const [key, value] of entries) {
    const [first, ...duplicates] = keyLines(doc, range, key);
    if (first !== undefined) {
      doc.lines[first] = `${key}=${value}`;
      for (const index of duplicates.reverse()) doc.lines.splice(index, 1);
      range.end -= duplicates.length;
    } else {
      let after = range.header;
      for (let i = range.header + 1; i < range.end; i++) if (keyValue(doc.lines[i] ?? '')) after = i;
      doc.lines.splice(after + 1, 0, `${key}=${value}`);
      range.end += 1;
    }
  }
}

/**
 * Removes keys from a section. The section goes too if nothing is left in it but blank
 * lines and the keys in `companions` (what login writes beside the credential), so that
 * logout undoes what login added; anything else (a comment, another key) keeps it.
 * @param {IniDocument} doc @param {string} name @param {string[]} keys @param {string[]} companions
 */
function removeKeys(doc, name, keys, companions) {
  const range = findSection(doc, name);
  if (!range) return;
  for (let i = range.end - 1; i > range.header; i--) {
    const entry = keyValue(doc.lines[i] ?? '');
    if (entry && keys.includes(entry[0])) {
      doc.lines.splice(i, 1);
      range.end -= 1;
    }
  }
  const rest = doc.lines.slice(range.header + 1, range.end);
  if (rest.every((line) => line.trim() === '' || companions.includes(keyValue(line)?.[0] ?? ''))) {
    doc.lines.splice(range.header, range.end - range.header);
    // Do not leave two blank lines where the section was, nor one at the end.
    const before = range.header - 1;
    const next = doc.lines[range.header];
    if (before >= 0 && (doc.lines[before] ?? '').trim() === '' && (next === undefined || next.trim() === '')) {
      doc.lines.splice(before, 1);
    }
  }
}

/** @param {Io} io @param {string} path @returns {{ doc: IniDocument, exists: boolean }} */
function readIniFile(io, path) {
  let text;
  try {
    text = readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { doc: parseIni(''), exists: false };
    throw new CliError(`Could not read ${path}: ${describeError(error)}`);
  }
  return { doc: parseIni(text), exists: true };
}

/**
 * Writes the whole file at once (a temporary file beside it, then a rename), so that a
 * crash leaves the old file or the new one, never half of one; mode 0600 because it holds
 * a secret. A symbolic link is followed, so a linked looker.ini stays linked.
 * @param {Io} io @param {string} path @param {IniDocument} doc
 */
function writeIniFile(io, path, doc) {
  let target = resolve(io.cwd, path);
  try {
    target = realpathSync(target);
  } catch {
    // Not there yet: create it where it was asked for.
  }
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, formatIni(doc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temporary, 0o600); // in case the umask took bits away from the owner
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError(`Could not write ${path}: ${describeError(error)}`);
  }
}

/** @param {Io} io @param {string} path */
function removeFile(io, path) {
  try {
    rmSync(resolve(io.cwd, path), { force: true });
  } catch (error) {
    throw new CliError(`Could not remove ${path}: ${describeError(error)}`);
  }
}

// ─── HTTP ────────────────────────────────────────────────────────────────────────────────

/**
 * @typedef {object} Answer
 * @property {number} status
 * @property {unknown} json  the body as JSON, or undefined if it was not JSON
 */

/**
 * One request to the gateway. Redirects are not followed: a form with a secret must not
 * travel on to wherever a redirect points.
 * @param {Io} io
 * @param {string} method
 * @param {string} gateway  origin
 * @param {string} path
 * @param {{ form?: Record<string, string>, bearer?: string }} [options]
 * @returns {Promise<Answer>}
 */
async function call(io, method, gateway, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let response;
  let text;
  try {
    response = await io.fetch(gateway + path, {
      method,
      headers,
      body: options.form ? new URLSearchParams(options.form) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    if (gateway.startsWith('https:') && speaksPlainHttp(error)) throw plainHttpError(gateway);
    throw new NetworkError(`Could not reach ${gateway}: ${describeError(error)}`);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new CliError(
      `${gateway} answered ${method} ${path} with a redirect (${response.status}); is ${gateway} the gateway's address?`,
    );
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

/**
 * Whether a TLS handshake failed because the server answered in plain http (OpenSSL's
 * "wrong version number": the first bytes back were "HTTP/1.1 400", not a TLS record),
 * as for https://localhost:8787 when the development gateway serves http.
 * @param {unknown} error
 */
function speaksPlainHttp(error) {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = errorCode(cause) ?? '';
  const message = cause instanceof Error ? cause.message : '';
  return (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /wrong version number|packet length too long/i.test(message)
  );
}

/** @param {string} gateway  an https origin whose server speaks plain http */
function plainHttpError(gateway) {
  const url = new URL(gateway);
  url.protocol = 'http:';
  const advice = LOOPBACK_HOSTS.has(url.hostname)
    ? `use ${url.origin}`
    : 'a gateway on another machine must be served over https; check the address and port';
  // Not a NetworkError: trying again will not help.
  return new CliError(`Could not reach ${gateway}: that address speaks plain http: ${advice}`);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} value */
function text(value) {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/**
 * An OAuth-style error answer (`error`, `error_description`) or Looker's (`message`).
 * @param {Answer} answer
 */
function errorOf(answer) {
  const body = isRecord(answer.json) ? answer.json : {};
  const code = text(body.error);
  const description = printable(text(body.error_description) || text(body.message) || code);
  return { code, description };
}

/**
 * @param {string} gateway @param {string} what  e.g. "POST /cli/token" @param {Answer} answer
 */
function unexpectedAnswer(gateway, what, answer) {
  const { description } = errorOf(answer);
  if (answer.json === undefined && answer.status === 404) {
    return new CliError(`${gateway} has no ${what.split(' ')[1]} (404); is it a looker-oauth-gateway with command-line sign-in?`);
  }
  return new CliError(`${gateway} answered ${what} with ${answer.status}${description ? `: ${description}` : ''}`);
}

/** @param {unknown} error */
function errorCode(error) {
  return isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
}

/** What went wrong, in one line, from Node's errors (fetch hides the useful part in `cause`). */
function describeError(/** @type {unknown} */ error) {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${HTTP_TIMEOUT_MS / 1000} seconds`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) return printable(cause.message);
  return printable(String(cause));
}

// ─── Gateway calls ───────────────────────────────────────────────────────────────────────

/**
 * @typedef {{ id: string, displayName: string, email: string }} LookerUser
 * @typedef {{ clientId: string, clientSecret: string, name: string, expiresAt: string, user: LookerUser, scope: string }} Credential
 * @typedef {{ gateway: string, clientId: string, clientSecret: string }} SavedCredential
 */

/** @param {unknown} value @returns {LookerUser} */
function parseUser(value) {
  const user = isRecord(value) ? value : {};
  return { id: printable(text(user.id)), displayName: printable(text(user.display_name)), email: printable(text(user.email)) };
}

/** @param {string} gateway @param {Answer} answer @returns {Credential} */
function parseCredential(gateway, answer) {
  const body = isRecord(answer.json) ? answer.json : {};
  const clientId = text(body.client_id);
  const clientSecret = text(body.client_secret);
  if (!INI_SAFE_VALUE.test(clientId) || !INI_SAFE_VALUE.test(clientSecret)) {
    throw new CliError(`${gateway} answered POST /cli/token without a usable client_id and client_secret.`);
  }
  return { clientId, clientSecret, name: printable(text(body.name)), expiresAt: text(body.expires_at), user: parseUser(body.user), scope: text(body.scope) };
}

/** @param {Io} io @param {string} gateway @param {Record<string, string>} form @returns {Promise<Credential>} */
async function requestCredential(io, gateway, form) {
  const answer = await call(io, 'POST', gateway, '/cli/token', { form });
  if (answer.status === 200) return parseCredential(gateway, answer);
  if (answer.status === 400 && errorOf(answer).code) {
    throw new CliError(`The gateway did not issue a credential: ${errorOf(answer).description}`);
  }
  throw unexpectedAnswer(gateway, 'POST /cli/token', answer);
}

/**
 * Revokes a credential. True if the gateway revoked it, false if it no longer knew it.
 * @param {Io} io @param {SavedCredential} saved
 */
async function revoke(io, saved) {
  const answer = await call(io, 'POST', saved.gateway, '/cli/revoke', {
    form: { client_id: saved.clientId, client_secret: saved.clientSecret },
  });
  if (answer.status === 200 && isRecord(answer.json) && typeof answer.json.revoked === 'boolean') return answer.json.revoked;
  throw unexpectedAnswer(saved.gateway, 'POST /cli/revoke', answer);
}

/**
 * Logs in to the API as an SDK would. Undefined when the gateway does not know the
 * credential (404, as Looker answers for a wrong API key).
 * @param {Io} io @param {SavedCredential} saved @returns {Promise<string | undefined>}
 */
async function apiLogin(io, saved) {
  const answer = await call(io, 'POST', saved.gateway, '/api/4.0/login', {
    form: { client_id: saved.clientId, client_secret: saved.clientSecret },
  });
  if (answer.status === 404) return undefined;
  const token = isRecord(answer.json) ? text(answer.json.access_token) : '';
  if (answer.status === 200 && /^[\x21-\x7e]+$/.test(token)) return token;
  throw unexpectedAnswer(saved.gateway, 'POST /api/4.0/login', answer);
}

/** @param {Io} io @param {string} gateway @param {string} token */
async function apiLogout(io, gateway, token) {
  const answer = await call(io, 'DELETE', gateway, '/api/4.0/logout', { bearer: token });
  if (answer.status !== 204 && answer.status !== 200) throw unexpectedAnswer(gateway, 'DELETE /api/4.0/logout', answer);
}

// ─── Browser sign-in (RFC 8252 loopback redirect, PKCE) ──────────────────────────────────

/** @param {Buffer} bytes */
function base64url(bytes) {
  return bytes.toString('base64url');
}

/**
 * @template T
 * @returns {{ promise: Promise<T>, resolve: (value: T) => void, reject: (reason: unknown) => void }}
 */
function deferred() {
  /** @type {(value: T) => void} */
  let resolve = () => {};
  /** @type {(reason: unknown) => void} */
  let reject = () => {};
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** @param {string | null} given @param {string} expected */
function sameSecret(given, expected) {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** @param {string} value */
function escapeHtml(value) {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @param {import('node:http').ServerResponse} response
 * @param {number} status @param {string} title @param {string} message
 * @param {() => void} [then]  once the page is sent
 */
function sendPage(response, status, title, message, then) {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>
`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    // The server goes away after one sign-in; no connection should keep it waiting.
    connection: 'close',
  });
  response.end(body, then);
}

/**
 * @param {string} error @param {string} description
 */
function signInRefusal(error, description) {
  if (error === 'access_denied') return 'You chose Deny in the browser; nothing was written.';
  return `The sign-in failed: ${printable(description || error)}`;
}

/**
 * Listens on 127.0.0.1 at a port the system picks, for the one redirect that ends the
 * sign-in: GET /callback with our state and a code (or an error). A wrong state gets a 400
 * page and the wait goes on: it is someone else's request, or a stale tab.
 * @param {Io} io @param {string} state @param {number} timeoutSeconds
 */
async function startLoopback(io, state, timeoutSeconds) {
  /** @type {ReturnType<typeof deferred<string>>} */
  const outcome = deferred();
  let finished = false;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback' || finished) {
      sendPage(response, 404, 'Not found', 'Nothing here. The sign-in ends at the address the command printed.');
      return;
    }
    const params = url.searchParams;
    if (!sameSecret(params.get('state'), state)) {
      sendPage(response, 400, 'Not this sign-in', 'This page does not belong to the sign-in the command is waiting for. Use the address it printed.');
      return;
    }
    const error = params.get('error');
    const code = params.get('code');
    if (error) {
      finished = true;
      const message = signInRefusal(error, params.get('error_description') ?? '');
      sendPage(response, 200, 'Not signed in', message, () => outcome.reject(new CliError(message)));
    } else if (code) {
      finished = true;
      sendPage(response, 200, 'Signed in', 'You can close this tab and go back to the terminal.', () => outcome.resolve(code));
    } else {
      sendPage(response, 400, 'Incomplete answer', 'The address has neither a code nor an error. Sign in again from the address the command printed.');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const waiting = new AbortController();
  void io.sleep(timeoutSeconds * 1000, waiting.signal).then(() => {
    if (waiting.signal.aborted) return;
    finished = true;
    outcome.reject(
      new CliError(
        `No answer from the browser within ${plural(timeoutSeconds, 'second')}; nothing was written.\n` +
          'Run login again (with --device on a machine without a browser).',
      ),
    );
  });
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    code: outcome.promise,
    close() {
      waiting.abort();
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * @param {string} gateway
 * @param {{ redirectUri: string, challenge: string, state: string, name: string, readOnly: boolean }} request
 */
function authorizeUrl(gateway, request) {
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: request.redirectUri,
    code_challenge: request.challenge,
    code_challenge_method: 'S256',
    state: request.state,
    name: request.name,
  });
  if (request.readOnly) params.set('scope', READ_SCOPE);
  return `${gateway}/cli/authorize?${params}`;
}

/** @param {Io} io @param {Settings & { gateway: string }} settings @returns {Promise<Credential>} */
async function signInWithBrowser(io, settings) {
  const { gateway } = settings;
  await checkGateway(io, gateway);
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(32));
  const loopback = await startLoopback(io, state, settings.timeoutSeconds);
  try {
    const url = authorizeUrl(gateway, { redirectUri: loopback.redirectUri, challenge, state, name: settings.name, readOnly: settings.readOnly });
    if (settings.open) {
      say(io, `Opening a browser to sign in to ${gateway}. If none opens, open this address:`);
      say(io, `  ${url}`);
      io.openBrowser(url, io);
    } else {
      say(io, `Open this address in a browser on this computer to sign in to ${gateway}:`);
      say(io, `  ${url}`);
    }
    say(io, 'Waiting for the browser…');
    const code = await loopback.code;
    return await requestCredential(io, gateway, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: loopback.redirectUri,
    });
  } finally {
    loopback.close();
  }
}

/**
 * Says at once when the address is not a gateway (nothing listening, a typo, Looker's own
 * address), instead of waiting for a browser sign-in that can never come back.
 * @param {Io} io @param {string} gateway
 */
async function checkGateway(io, gateway) {
  const answer = await call(io, 'GET', gateway, '/healthz');
  const status = answer.json && typeof answer.json === 'object' ? /** @type {{ status?: unknown }} */ (answer.json).status : undefined;
  if (answer.status !== 200 || status !== 'ok') {
    throw new CliError(`${gateway} does not answer like a looker-oauth-gateway (GET /healthz answered ${answer.status}); check the address.`);
  }
}

// ─── Opening a browser ───────────────────────────────────────────────────────────────────

/**
 * Splits a command line the way a POSIX shell would for plain words and quotes (no
 * expansion), as gh does with $BROWSER. Undefined if a quote is left open.
 * @param {string} line @returns {string[] | undefined}
 */
function splitCommandLine(line) {
  /** @type {string[]} */
  const words = [];
  let word = '';
  let inWord = false;
  /** @type {string | undefined} */
  let quote;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}

/**
 * The command that opens a URL: $BROWSER (as gh and git honour it), else the platform's.
 * @param {string} url @param {Record<string, string | undefined>} env
 * @returns {{ file: string, args: string[], verbatim?: boolean } | undefined}
 */
function browserCommand(url, env) {
  const launcher = env.BROWSER?.trim();
  if (launcher) {
    const words = splitCommandLine(launcher);
    const [file, ...args] = words ?? [];
    return file ? { file, args: [...args, url] } : undefined;
  }
  if (process.platform === 'darwin') return { file: 'open', args: [url] };
  if (process.platform === 'win32') {
    // start's first quoted argument is a window title; cmd would cut the URL at each &.
    return { file: 'cmd', args: ['/c', 'start', '""', '/b', url.replace(/&/g, '^&')], verbatim: true };
  }
  return { file: 'xdg-open', args: [url] };
}

/**
 * Starts the browser without a shell and without waiting for it; says so if that fails
 * (the address is already on screen).
 * @param {string} url @param {Io} io
 */
function openBrowser(url, io) {
  const command = browserCommand(url, io.env);
  const giveUp = (/** @type {string} */ why) => say(io, `Could not open a browser (${why}); open the address above yourself.`);
  if (!command) {
    giveUp('$BROWSER is not a command');
    return;
  }
  let child;
  try {
    // Detached so Ctrl-C here does not take the browser down; no stdio, so a browser
    // that keeps running cannot hold on to a pipe reading this command's output.
    child = spawn(command.file, command.args, {
      env: { ...io.env },
      stdio: 'ignore',
      detached: true,
      windowsVerbatimArguments: command.verbatim ?? false,
    });
  } catch (error) {
    giveUp(describeError(error));
    return;
  }
  child.on('error', (error) => giveUp(errorCode(error) === 'ENOENT' ? `${command.file} not found` : describeError(error)));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) giveUp(`${command.file} exited with status ${code}`);
  });
  child.unref();
}

// ─── Device sign-in (RFC 8628) ───────────────────────────────────────────────────────────

/** @param {string} gateway @param {Answer} answer */
function parseDeviceGrant(gateway, answer) {
  const body = isRecord(answer.json) ? answer.json : {};
  const deviceCode = text(body.device_code);
  const userCode = printable(text(body.user_code));
  const verificationUri = printable(text(body.verification_uri));
  const expiresIn = Number(body.expires_in);
  if (answer.status !== 200 || !deviceCode || !userCode || !verificationUri || !(expiresIn > 0)) {
    throw unexpectedAnswer(gateway, 'POST /cli/device/code', answer);
  }
  const interval = body.interval === undefined ? DEVICE_DEFAULT_INTERVAL_SECONDS : Number(body.interval);
  // verification_uri_complete, if the gateway still sends it, is ignored on purpose: a link
  // with the code in it can be forwarded to someone else, who would then only have to click
  // Allow (device-code phishing). The person types the code this device shows, as with gh.
  return {
    deviceCode,
    userCode,
    verificationUri,
    expiresIn,
    interval: Math.max(DEVICE_MIN_INTERVAL_SECONDS, Number.isFinite(interval) ? interval : DEVICE_DEFAULT_INTERVAL_SECONDS),
  };
}

/** @param {Io} io @param {Settings & { gateway: string }} settings @returns {Promise<Credential>} */
async function signInWithDevice(io, settings) {
  const { gateway } = settings;
  const grant = parseDeviceGrant(gateway, await call(io, 'POST', gateway, '/cli/device/code', { form: scopedForm(settings, { name: settings.name }) }));
  say(io, `Open ${grant.verificationUri} in a browser where you can sign in, and enter the code ${grant.userCode}`);
  say(io, `(type it yourself: it looks like XXXX-XXXX. Never enter a code that someone else sent you.)`);
  say(io, 'Waiting for the sign-in…');

  const expired = new CliError('The code expired; run login again.');
  const deadline = io.now() + grant.expiresIn * 1000;
  let interval = grant.interval;
  let unreachable = false;
  for (;;) {
    await io.sleep(interval * 1000);
    if (io.now() >= deadline) throw expired;
    let answer;
    try {
      answer = await call(io, 'POST', gateway, '/cli/token', {
        form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: grant.deviceCode },
      });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      // A laptop changing networks, a gateway restarting: the code is still good.
      if (!unreachable) say(io, `${error.message}; trying again until the code expires.`);
      unreachable = true;
      continue;
    }
    unreachable = false;
    if (answer.status === 200) return parseCredential(gateway, answer);
    const { code, description } = errorOf(answer);
    if (answer.status !== 400 || !code) throw unexpectedAnswer(gateway, 'POST /cli/token', answer);
    if (code === 'authorization_pending') continue;
    if (code === 'slow_down') {
      interval += DEVICE_SLOW_DOWN_SECONDS;
      continue;
    }
    if (code === 'expired_token') throw expired;
    if (code === 'access_denied') throw new CliError('You chose Deny in the browser; nothing was written.');
    throw new CliError(`The gateway did not issue a credential: ${description}`);
  }
}

// ─── Commands ────────────────────────────────────────────────────────────────────────────

/** @param {Settings} settings */
function fileAndSection(settings) {
  return `[${settings.section}] of ${settings.ini}`;
}

/** The variables the Looker SDKs read, and the looker.ini keys they stand for. */
const SDK_VARIABLES = /** @type {const} */ ([
  ['base_url', 'LOOKERSDK_BASE_URL'],
  ['client_id', 'LOOKERSDK_CLIENT_ID'],
  ['client_secret', 'LOOKERSDK_CLIENT_SECRET'],
]);
const UNSET_VARIABLES = 'unset LOOKERSDK_BASE_URL LOOKERSDK_CLIENT_ID LOOKERSDK_CLIENT_SECRET LOOKERSDK_VERIFY_SSL';

/**
 * A credential to use, and where it was found: `fromEnv` lists the LOOKERSDK_* variables
 * that were used; `inFile` is whether client_id and client_secret came from the file (so
 * that logout may remove them there).
 * @typedef {SavedCredential & { fromEnv: string[], inFile: boolean }} FoundCredential
 */

/** Where a credential came from, for status and the hints. @param {Settings} settings @param {FoundCredential} found */
function sourceOf(settings, found) {
  if (found.fromEnv.length === SDK_VARIABLES.length) return 'the LOOKERSDK_* environment variables';
  if (found.fromEnv.length === 0) return fileAndSection(settings);
  return `${fileAndSection(settings)}, with ${found.fromEnv.join(' and ')} from the environment`;
}

/**
 * The login command line that writes to the same place as this one.
 * @param {Io} io @param {Settings} settings @param {string} gateway @param {FoundCredential} [found]
 */
function loginHint(io, settings, gateway, found) {
  if (found && !found.inFile) return `${io.program} login ${gateway} --print-env`;
  const extra = [
    settings.ini === DEFAULT_INI ? '' : ` --ini ${shellQuote(settings.ini)}`,
    settings.section === DEFAULT_SECTION ? '' : ` --section ${shellQuote(settings.section)}`,
  ].join('');
  return `${io.program} login ${gateway}${extra}`;
}

/** @param {string} value */
function shellQuote(value) {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The credential a command works with. As in the Looker SDKs, each LOOKERSDK_* variable
 * that is set overrides its key in looker.ini; with all three set the file is not read.
 * "Not signed in" otherwise.
 * @param {Io} io @param {Settings} settings @returns {FoundCredential}
 */
function savedCredential(io, settings) {
  /** @type {Map<string, string>} */
  const fromEnv = new Map();
  for (const [key, variable] of SDK_VARIABLES) {
    const value = io.env[variable]?.trim();
    if (value) fromEnv.set(key, value);
  }
  const envNames = SDK_VARIABLES.filter(([key]) => fromEnv.has(key)).map(([, variable]) => variable);
  if (envNames.length > 0 && settings.fileNamed) {
    say(io, `Using ${envNames.join(', ')} from the environment, which take${envNames.length === 1 ? 's' : ''} precedence over --ini and --section (as in the Looker SDKs).`);
  }

  let values = new Map();
  if (fromEnv.size < SDK_VARIABLES.length) {
    const { doc, exists } = readIniFile(io, settings.ini);
    if (!exists && fromEnv.size === 0) {
      throw new CliError(`Not signed in: there is no ${settings.ini}. Run \`${io.program} login <gateway-url>\` first.`);
    }
    values = readSection(doc, settings.section) ?? new Map();
  }
  const get = (/** @type {string} */ key) => fromEnv.get(key) ?? values.get(key) ?? '';
  const clientId = get('client_id');
  const clientSecret = get('client_secret');
  if (!clientId || !clientSecret) {
    const where =
      fromEnv.size === 0
        ? `${fileAndSection(settings)} holds no client_id and client_secret`
        : `neither the environment (LOOKERSDK_CLIENT_ID, LOOKERSDK_CLIENT_SECRET) nor ${fileAndSection(settings)} holds both a client_id and a client_secret`;
    throw new CliError(`Not signed in: ${where}. Run \`${io.program} login <gateway-url>\` first.`);
  }
  const baseUrl = get('base_url');
  const baseUrlSource = fromEnv.has('base_url') ? 'LOOKERSDK_BASE_URL' : `base_url in ${fileAndSection(settings)}`;
  const gateway = gatewayOrigin(baseUrl, (message) => new CliError(`${baseUrlSource}: ${message}`));
  return { gateway, clientId, clientSecret, fromEnv: envNames, inFile: !fromEnv.has('client_id') && !fromEnv.has('client_secret') };
}

/**
 * @param {string} expiresAt  ISO 8601
 * @param {number} now
 */
function describeExpiry(expiresAt, now) {
  const when = Date.parse(expiresAt);
  if (Number.isNaN(when)) return printable(expiresAt) || 'an unknown date';
  const remaining = when - now;
  // Rounded to whole days: a credential made a moment ago for 90 days shows 90, not 89.
  const left = remaining <= 0 ? 'expired' : remaining < 86_400_000 ? 'less than a day' : plural(Math.round(remaining / 86_400_000), 'day');
  return `${new Date(when).toISOString().slice(0, 10)} (${left})`;
}

/** @param {LookerUser} user */
function describeUser(user) {
  const name = user.displayName || (user.id ? `Looker user ${user.id}` : 'an unknown user');
  const email = user.email ? ` <${user.email}>` : '';
  const id = user.displayName && user.id ? ` (Looker user ${user.id})` : '';
  return `${name}${email}${id}`;
}

/**
 * Which credential the section already holds for this gateway (to revoke once the new one
 * is written). A credential for another server is not overwritten unless --force: it may
 * be a Looker API key that exists nowhere else.
 * @param {Io} io @param {Settings & { gateway: string }} settings
 * @returns {SavedCredential | undefined}
 */
function previousCredential(io, settings) {
  const values = readSection(readIniFile(io, settings.ini).doc, settings.section);
  const clientId = values?.get('client_id');
  if (!values || !clientId) return undefined;
  const baseUrl = values.get('base_url') ?? '';
  let origin;
  try {
    origin = gatewayOrigin(baseUrl, (message) => new Error(message));
  } catch {
    origin = undefined;
  }
  if (origin === settings.gateway) {
    const clientSecret = values.get('client_secret');
    return clientSecret ? { gateway: origin, clientId, clientSecret } : undefined;
  }
  if (settings.force) return undefined; // never send another server's secret to this one
  throw new CliError(
    `${fileAndSection(settings)} already holds a client_id for ${printable(baseUrl) || 'another server'}.\n` +
      'Choose another --section or --ini, or pass --force to replace it (it will not be revoked).',
  );
}

/** @param {string} gateway @param {Credential} credential */
function exportLines(gateway, credential) {
  /** @param {string} value */
  const quote = (value) => `'${value.replace(/'/g, `'\\''`)}'`;
  return [
    `export LOOKERSDK_BASE_URL=${quote(gateway)}`,
    `export LOOKERSDK_CLIENT_ID=${quote(credential.clientId)}`,
    `export LOOKERSDK_CLIENT_SECRET=${quote(credential.clientSecret)}`,
    `export LOOKERSDK_VERIFY_SSL=${quote('true')}`,
  ].join('\n');
}

/**
 * Writes the new credential into the section. If that fails, the credential is revoked
 * rather than left valid with no copy anywhere.
 * @param {Io} io @param {Settings & { gateway: string }} settings @param {Credential} credential
 */
async function saveOrRevoke(io, settings, credential) {
  try {
    // Read again: the file may have changed while the browser was open.
    const { doc } = readIniFile(io, settings.ini);
    setKeys(doc, settings.section, [
      ['base_url', settings.gateway],
      ['client_id', credential.clientId],
      ['client_secret', credential.clientSecret],
      ['verify_ssl', 'true'],
    ]);
    writeIniFile(io, settings.ini, doc);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    const fresh = { gateway: settings.gateway, clientId: credential.clientId, clientSecret: credential.clientSecret };
    const revoked = await revoke(io, fresh).then(
      () => 'The new credential was revoked again.',
      () => 'The new credential could not be revoked; it stays valid until it expires.',
    );
    throw new CliError(`${error.message}\n${revoked}`);
  }
}

/** @param {Io} io @param {Settings & { gateway: string }} settings */
async function login(io, settings) {
  const { gateway } = settings;
  const previous = settings.printEnv ? undefined : previousCredential(io, settings);
  const credential = settings.device ? await signInWithDevice(io, settings) : await signInWithBrowser(io, settings);
  if (settings.readOnly && credential.scope !== READ_SCOPE) {
    // A gateway from before read-only credentials ignores the request and issues a full one: never keep that.
    await revoke(io, { gateway, clientId: credential.clientId, clientSecret: credential.clientSecret }).catch(() => false);
    throw new CliError(`${gateway} issued a credential that is not read-only (it does not offer read-only credentials yet), so it was revoked and nothing was written. Sign in without --read-only, or ask for the gateway to be updated.`);
  }

  if (settings.printEnv) {
    result(io, exportLines(gateway, credential));
  } else {
    await saveOrRevoke(io, settings, credential);
  }

  const name = credential.name ? ` "${credential.name}"` : '';
  say(io, `Signed in to ${gateway} as ${describeUser(credential.user)}.`);
  say(io, `The ${credential.scope === READ_SCOPE ? 'read-only ' : ''}credential${name} (${credential.clientId}) is valid until ${describeExpiry(credential.expiresAt, io.now())}.`);
  if (settings.printEnv) {
    say(io, `To end it: run \`${io.program} logout\` with these variables exported, or revoke it on Your access at ${gateway}/access.`);
  } else {
    say(io, `Wrote base_url, client_id and client_secret to ${fileAndSection(settings)}.`);
    const shadowing = SDK_VARIABLES.map(([, variable]) => variable).filter((variable) => io.env[variable]?.trim());
    if (shadowing.length > 0) {
      say(io, `Note: ${shadowing.join(', ')} ${shadowing.length === 1 ? 'is' : 'are'} set in this environment and take${shadowing.length === 1 ? 's' : ''} precedence over the file (for status, token, logout and the Looker SDKs): ${UNSET_VARIABLES}`);
    }
  }

  if (previous && previous.clientId !== credential.clientId) {
    try {
      const revoked = await revoke(io, previous);
      say(
        io,
        revoked
          ? `Revoked the credential it replaces (${previous.clientId}).`
          : `The credential it replaces (${previous.clientId}) was no longer known to the gateway (revoked or expired already).`,
      );
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      say(io, `Warning: could not revoke the credential it replaces (${previous.clientId}): ${error.message}`);
      say(io, 'It stays valid until it expires.');
    }
  }
  return EXIT_OK;
}

/**
 * Logs in as an SDK would; "not signed in" when the gateway no longer knows the credential.
 * @param {Io} io @param {Settings} settings @param {FoundCredential} saved
 */
async function accessToken(io, settings, saved) {
  const token = await apiLogin(io, saved);
  if (token !== undefined) return token;
  throw new CliError(
    `Not signed in to ${saved.gateway}: the credential in ${sourceOf(settings, saved)} (${saved.clientId}) was revoked, ` +
      `has expired or is unknown to the gateway.\nRun \`${loginHint(io, settings, saved.gateway, saved)}\` to sign in again.`,
  );
}

/** @param {Io} io @param {Settings} settings */
async function status(io, settings) {
  const saved = savedCredential(io, settings);
  const token = await accessToken(io, settings, saved);
  try {
    const answer = await call(io, 'GET', saved.gateway, '/cli/credential', { bearer: token });
    if (answer.status !== 200 || !isRecord(answer.json)) throw unexpectedAnswer(saved.gateway, 'GET /cli/credential', answer);
    const info = answer.json;
    const name = printable(text(info.name));
    // The gateway knows the credential; whether Looker still honours its sign-in (an admin
    // may have revoked it there) only a call to Looker tells.
    const looker = await call(io, 'GET', saved.gateway, '/api/4.0/user?fields=id', { bearer: token });
    if (looker.status === 401) {
      const why = isRecord(looker.json) ? printable(text(looker.json.message)) : '';
      throw new CliError(
        `Not signed in to ${saved.gateway}: the credential in ${sourceOf(settings, saved)} (${saved.clientId}) is known to the gateway, ` +
          `but Looker no longer accepts its sign-in${why ? ` (${why})` : ''}.\nRun \`${loginHint(io, settings, saved.gateway, saved)}\` to sign in again.`,
      );
    }
    if (looker.status !== 200) {
      const why = isRecord(looker.json) ? printable(text(looker.json.message)) : '';
      say(io, `Warning: could not confirm with Looker that the sign-in works: GET /api/4.0/user answered ${looker.status}${why ? ` (${why})` : ''}.`);
    }
    result(
      io,
      `Signed in to ${saved.gateway} as ${describeUser(parseUser(info.user))} ` +
        `with credential${name ? ` "${name}"` : ''} (${printable(text(info.client_id)) || saved.clientId}), ` +
        `valid until ${describeExpiry(text(info.expires_at), io.now())}${describeScope(info.scope)}\n` +
        `The credential is from ${sourceOf(settings, saved)}.`,
    );
  } finally {
    // The token was only for this look; end it rather than leave it valid for its hour.
    await apiLogout(io, saved.gateway, token).catch((/** @type {unknown} */ error) => {
      say(io, `Warning: could not end the API session used for this check: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  return EXIT_OK;
}

/** What status adds for a read-only credential (a full one, the default, goes unsaid). @param {unknown} scope */
function describeScope(scope) {
  return scope === READ_SCOPE ? '; read-only (it may read and run queries, not change anything)' : '';
}

/** The form of a sign-in request, with scope=looker:read when --read-only asks for it. @param {Settings} settings @param {Record<string, string>} form */
function scopedForm(settings, form) {
  return settings.readOnly ? { ...form, scope: READ_SCOPE } : form;
}

/** @param {Io} io @param {Settings} settings */
async function token(io, settings) {
  const saved = savedCredential(io, settings);
  result(io, await accessToken(io, settings, saved));
  return EXIT_OK;
}

/** @param {Io} io @param {Settings} settings */
async function logout(io, settings) {
  const saved = savedCredential(io, settings);
  let revoked;
  try {
    revoked = await revoke(io, saved);
  } catch (error) {
    if (error instanceof CliError) {
      const unchanged = saved.inFile ? `${settings.ini} is unchanged` : 'nothing was changed';
      throw new CliError(`${error.message}\nThe credential was not revoked; ${unchanged}.`);
    }
    throw error;
  }
  say(
    io,
    revoked
      ? `Revoked the credential ${saved.clientId} on ${saved.gateway}.`
      : `${saved.gateway} no longer knew the credential ${saved.clientId} (revoked or expired already).`,
  );
  if (!saved.inFile) {
    say(io, `It came from the environment; remove it from your shell (and wherever you exported it): ${UNSET_VARIABLES}`);
    return EXIT_OK;
  }
  const { doc } = readIniFile(io, settings.ini);
  removeKeys(doc, settings.section, ['client_id', 'client_secret'], ['base_url', 'verify_ssl']);
  if (doc.lines.every((line) => line.trim() === '')) {
    // An empty looker.ini helps no one, and the Python SDK fails on a file without sections.
    removeFile(io, settings.ini);
    say(io, `Removed ${settings.ini}, which held nothing else.`);
  } else {
    writeIniFile(io, settings.ini, doc);
    say(io, `Removed the credential from ${fileAndSection(settings)}.`);
  }
  return EXIT_OK;
}

// ─── Main ────────────────────────────────────────────────────────────────────────────────

/**
 * Runs one command line; resolves with the exit status (errors are reported on stderr).
 * @param {string[]} argv  the arguments after the program
 * @param {Partial<Io>} [deps]  replacements for the real world (the tests')
 * @returns {Promise<number>}
 */
export async function main(argv, deps = {}) {
  const io = { ...realIo(), ...deps };
  try {
    const invocation = parseCommandLine(argv, io);
    if (invocation.kind === 'print') {
      if (invocation.exitCode === EXIT_OK) result(io, invocation.text);
      else say(io, invocation.text);
      return invocation.exitCode;
    }
    const { settings } = invocation;
    switch (settings.command) {
      case 'login':
        return await login(io, { ...settings, gateway: settings.gateway ?? '' });
      case 'status':
        return await status(io, settings);
      case 'token':
        return await token(io, settings);
      case 'logout':
        return await logout(io, settings);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      say(io, `${error.message}\nRun \`${io.program} help${error.command ? ` ${error.command}` : ''}\` for usage.`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      say(io, error.message);
      return error.exitCode;
    }
    say(io, `Unexpected error (a bug in ${PROGRAM} ${VERSION}):`);
    say(io, error instanceof Error ? (error.stack ?? error.message) : String(error));
    return EXIT_FAILURE;
  }
}

/** Whether this file is the program Node was started with (not imported by a test). @param {string | undefined} script */
function isMainModule(script) {
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule(process.argv[1])) {
  // process.exitCode rather than process.exit(): on some platforms stdout to a pipe is
  // written asynchronously, and exiting at once could cut a token short.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
