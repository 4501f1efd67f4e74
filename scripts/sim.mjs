#!/usr/bin/env node
// npm run sim [-- --port 8788 --auto-approve --refresh-token-mode rotate|null|same
//              --logout-revokes-refresh-token --redirect-uri URL ... --client-id ID
//              --access-token-ttl SECONDS]
// Starts the Looker simulator alone, e.g. to point a `wrangler dev` you run yourself at it.
import { parseArgs } from 'node:util';
import { requireModernNode } from './lib/node-version.mjs';

requireModernNode();
const { startSimulator } = await import('../sim/server.ts');

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SIM_PORT ?? '8788' },
    'client-id': { type: 'string', default: process.env.LOOKER_CLIENT_ID ?? 'gateway-dev' },
    'redirect-uri': { type: 'string', multiple: true },
    'auto-approve': { type: 'boolean', default: false },
    'refresh-token-mode': { type: 'string', default: 'rotate' },
    'logout-revokes-refresh-token': { type: 'boolean', default: false },
    'access-token-ttl': { type: 'string', default: '3600' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm run sim -- [--port 8788] [--auto-approve] [--refresh-token-mode rotate|null|same]
                       [--logout-revokes-refresh-token] [--client-id gateway-dev]
                       [--redirect-uri URL ...] [--access-token-ttl SECONDS]
Starts the Looker simulator alone. Admin API key for register/doctor: sim-admin-id / sim-admin-secret.

  --auto-approve                   approve sign-ins without showing the consent page
  --refresh-token-mode MODE        what a refresh returns: rotate (a new refresh token, the old one
                                   dies), null (none: keep the old one) or same (the old one again)
  --logout-revokes-refresh-token   logging out with an access token also kills the refresh token
                                   of its sign-in (off by default: unknown for real Looker)
  --access-token-ttl SECONDS       lifetime of access tokens (default 3600)`);
  process.exit(0);
}

const mode = values['refresh-token-mode'];
if (!['rotate', 'null', 'same'].includes(mode)) {
  console.error(`--refresh-token-mode must be rotate, null or same (got ${JSON.stringify(mode)})`);
  process.exit(2);
}
const port = Number(values.port);
const ttl = Number(values['access-token-ttl']);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port must be a port number');
  process.exit(2);
}
if (!Number.isFinite(ttl) || ttl <= 0) {
  console.error('--access-token-ttl must be a positive number of seconds');
  process.exit(2);
}

const running = await startSimulator({
  port,
  clientId: values['client-id'],
  redirectUris: values['redirect-uri'] ?? ['http://localhost:8787/callback', 'http://127.0.0.1:8787/callback'],
  autoApprove: values['auto-approve'],
  refreshTokenMode: mode,
  logoutRevokesRefreshToken: values['logout-revokes-refresh-token'],
  accessTokenTtlSeconds: ttl,
});
console.log(`Looker simulator listening on ${running.url} (client_id ${values['client-id']})`);
const stop = async () => {
  await running.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
