/** The OAuth client apps this Looker knows, as its admin API shows and edits them. */
import type { SimulatorOptions } from './switches.ts';

/** An OAuth client app as Looker's API shows it (`oauth_client_apps/{client_guid}`). */
export interface OAuthClientApp {
  client_guid: string;
  redirect_uri: string;
  display_name: string;
  description: string;
  enabled: boolean;
  group_id: string | null;
  tokens_invalid_before: string | null;
  activated_users: unknown[];
}

/** `extraRedirectUris` stands for newer Lookers' list of redirect URIs, beyond `redirect_uri`. */
export type RegisteredApp = OAuthClientApp & { extraRedirectUris: string[] };

export const DEFAULT_CLIENT_ID = 'gateway-dev';
export const DEFAULT_REDIRECT_URIS = ['http://localhost:8787/callback', 'http://127.0.0.1:8787/callback'];

/** The apps registered at start: the gateway's, unless `registerApp` is false. */
export function initialApps(options: SimulatorOptions): Map<string, RegisteredApp> {
  const apps = new Map<string, RegisteredApp>();
  if (options.registerApp === false) return apps;
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  const redirectUris = options.redirectUris ?? DEFAULT_REDIRECT_URIS;
  apps.set(clientId, {
    client_guid: clientId,
    redirect_uri: redirectUris[0] ?? '',
    extraRedirectUris: redirectUris.slice(1),
    display_name: 'Looker OAuth Gateway',
    description: 'Registered by the simulator',
    enabled: true,
    group_id: null,
    tokens_invalid_before: null,
    activated_users: [],
  });
  return apps;
}

export const redirectUrisOf = (app: RegisteredApp): string[] => [app.redirect_uri, ...app.extraRedirectUris];

/** What the API answers: the app without the simulator's bookkeeping. */
export const publicView = ({ extraRedirectUris: _, ...app }: RegisteredApp): OAuthClientApp => app;
