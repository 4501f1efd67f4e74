/**
 * Vitest global setup (Node tests): one `npm run dev` gateway — wrangler dev and the Looker
 * simulator, through scripts/dev.mjs as a person runs it — for every end-to-end and
 * command-line test file of the run, instead of one per file (each costs seconds to start).
 * Files reach it through `sharedDevGateway()` (test/e2e/harness.ts).
 */
import type { TestProject } from 'vitest/node';
import { type DevGateway, SHARED_GATEWAY_VARS, startDevGateway } from './harness.ts';

let gateway: DevGateway | undefined;

export async function setup(project: TestProject): Promise<void> {
  gateway = await startDevGateway({ vars: SHARED_GATEWAY_VARS });
  project.provide('devGateway', { url: gateway.url, simUrl: gateway.simUrl, logFile: gateway.logFile, stateDir: gateway.stateDir });
}

export async function teardown(): Promise<void> {
  await gateway?.stop();
}
