/** Serves the Looker simulator over HTTP in Node (for `npm run sim`, `npm run dev`, the e2e test and the benchmark). */
import { serve } from '@hono/node-server';
import { createLookerSimulator, type LookerSimulator, type SimulatorOptions } from './simulator.ts';

export interface RunningSimulator {
  url: string;
  sim: LookerSimulator;
  close(): Promise<void>;
}

export function startSimulator(options: SimulatorOptions & { port?: number; hostname?: string } = {}): Promise<RunningSimulator> {
  const { port = 8788, hostname = '127.0.0.1', ...simOptions } = options;
  return new Promise((resolve, reject) => {
    let settled = false;
    const urlFor = (info: { port: number }) => `http://${hostname === '127.0.0.1' ? 'localhost' : hostname}:${info.port}`;
    // The simulator tells the browser its own public address, so it needs it before serving.
    const sim = createLookerSimulator({
      ...simOptions,
      publicUrl: simOptions.publicUrl ?? (port === 0 ? undefined : `http://localhost:${port}`),
    });
    const server = serve({ fetch: sim.app.fetch, port, hostname }, (info) => {
      settled = true;
      resolve({
        url: urlFor(info),
        sim,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.on('error', (error: Error) => {
      if (!settled) reject(error);
    });
  });
}
