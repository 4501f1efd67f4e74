/**
 * Vitest global setup (Node tests): one `npm run dev` gateway — wrangler dev and the Looker
 * simulator, through scripts/dev.mjs as a person runs it — for every end-to-end and
 * command-line test file of the run, instead of one per file (each costs seconds to start),
 * with short token lifetimes for the SDK test (SHARED_GATEWAY_OPTIONS); beside it, started
 * at the same time, the gateway on Deno (`npm run dev -- --runtime deno`, when there is a
 * Deno) and the run's one Chromium. Files reach them through `sharedDevGateway()`,
 * `denoGateway()` and `launchChromium()` (test/e2e/harness.ts).
 */
import type { BrowserServer } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import {
  DENO_GATEWAY_OPTIONS,
  type DevGateway,
  haveChromium,
  haveDeno,
  SHARED_GATEWAY_OPTIONS,
  type SharedGatewayInfo,
  startChromiumServer,
  startDevGateway,
} from './harness.ts';

const started: DevGateway[] = [];
let chromium: BrowserServer | undefined;

const info = (gateway: DevGateway): SharedGatewayInfo => ({ url: gateway.url, simUrl: gateway.simUrl, logFile: gateway.logFile, stateDir: gateway.stateDir });

export async function setup(project: TestProject): Promise<void> {
  if (!haveDeno) console.warn('Skipping the gateway on Deno: no Deno in node_modules (npm install).');
  const [shared, deno, browser] = await Promise.allSettled([
    startDevGateway(SHARED_GATEWAY_OPTIONS),
    haveDeno ? startDevGateway(DENO_GATEWAY_OPTIONS) : Promise.resolve(null),
    haveChromium ? startChromiumServer() : Promise.resolve(undefined),
  ]);
  if (browser.status === 'fulfilled') chromium = browser.value;
  for (const outcome of [shared, deno]) if (outcome?.status === 'fulfilled' && outcome.value !== null) started.push(outcome.value);
  if (shared?.status !== 'fulfilled' || deno?.status !== 'fulfilled' || browser?.status !== 'fulfilled') {
    // Vitest calls no teardown when setup fails: stop those that did start.
    await teardown();
    const failed = [shared, deno, browser].find((outcome) => outcome?.status === 'rejected');
    throw failed?.status === 'rejected' ? failed.reason : new Error('no gateway');
  }
  project.provide('devGateway', info(shared.value));
  project.provide('denoDevGateway', deno.value === null ? null : info(deno.value));
  project.provide('chromiumEndpoint', chromium?.wsEndpoint() ?? null);
}

export async function teardown(): Promise<void> {
  await Promise.all([...started.map((gateway) => gateway.stop()), chromium?.close()]);
}
