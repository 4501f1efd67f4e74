/** Ports and folders on this machine, for whatever a run starts. */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export const originOf = (port: number): string => `http://127.0.0.1:${port}`;

/** A TCP port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo; // a TCP listener's address is always an AddressInfo
      server.close(() => resolve(port));
    });
  });
}

/** `dir`, emptied (made if missing). */
export function emptyDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function portOf(ports: ReadonlyMap<string, number>, id: string): number {
  const port = ports.get(id);
  if (port === undefined) throw new Error(`no port was chosen for ${id}`);
  return port;
}
