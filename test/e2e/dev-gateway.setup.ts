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
  const [shared, sdk] = await Promise.all(
    [{ vars: SHARED_GATEWAY_VARS }, SDK_GATEWAY_OPTIONS].map(async (options) => {
      const gateway = await startDevGateway(options);
      started.push(gateway);
      return gateway;
    }),
  );
  project.provide('devGateway', info(shared!));
  project.provide('sdkDevGateway', info(sdk!));
}

export async function teardown(): Promise<void> {
  await Promise.all(started.map((gateway) => gateway.stop()));
}
