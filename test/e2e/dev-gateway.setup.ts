/**
 * Vitest global setup (Node tests): one `npm run dev` gateway — wrangler dev and the Looker
 * simulator, through scripts/dev.mjs as a person runs it — for every end-to-end and
 * command-line test file of the run, instead of one per file (each costs seconds to start),
 * and beside it, started at the same time, the SDK test's own (short token lifetimes).
 * Files reach them through `sharedDevGateway()` and `sdkDevGateway()` (test/e2e/harness.ts).
 */
import type { TestProject } from 'vitest/node';
import { type DevGateway, SDK_GATEWAY_OPTIONS, SHARED_GATEWAY_VARS, type SharedGatewayInfo, startDevGateway } from './harness.ts';

const started: DevGateway[] = [];

const info = (gateway: DevGateway): SharedGatewayInfo => ({ url: gateway.url, simUrl: gateway.simUrl, logFile: gateway.logFile, stateDir: gateway.stateDir });

export async function setup(project: TestProject): Promise<void> {
  const [shared, sdk] = await Promise.allSettled([startDevGateway({ vars: SHARED_GATEWAY_VARS }), startDevGateway(SDK_GATEWAY_OPTIONS)]);
  for (const outcome of [shared, sdk]) if (outcome?.status === 'fulfilled') started.push(outcome.value);
  if (shared?.status !== 'fulfilled' || sdk?.status !== 'fulfilled') {
    // Vitest calls no teardown when setup fails: stop the one that did start.
    await teardown();
    throw shared?.status === 'rejected' ? shared.reason : sdk?.status === 'rejected' ? sdk.reason : new Error('no gateway');
  }
  project.provide('devGateway', info(shared.value));
  project.provide('sdkDevGateway', info(sdk.value));
}

export async function teardown(): Promise<void> {
  await Promise.all(started.map((gateway) => gateway.stop()));
}
