/**
 * `npm run register`: registers (or updates) the gateway as an OAuth client app in
 * Looker, idempotently. Reads first; creates the app if absent; if it differs, shows the
 * difference and changes it only with --apply. Always closes the admin API session.
 * The admin API key comes from the environment only and is never printed.
 */
import { type ConfigProblem, parseBaseUrl, parseOrigin } from '../src/config.ts';
import type { Fetch } from '../src/looker/http.ts';
import { parseArgs } from './args.ts';
import { AdminToolError, LookerAdminSession, type OAuthAppSettings, type RegisteredApp } from './looker-admin.ts';

export interface ToolInput {
  vars: Record<string, string | undefined>;
  argv: string[];
  fetch: Fetch;
  print: (line: string) => void;
}

export const REGISTER_USAGE = `Usage: npm run register -- [--env NAME] [--apply] [--display-name NAME] [--description TEXT] [--group-id ID]

Registers the gateway in Looker as an OAuth client app (client_guid = LOOKER_CLIENT_ID,
redirect_uri = GATEWAY_URL/callback), using an admin's API key from the environment:
LOOKER_ADMIN_CLIENT_ID and LOOKER_ADMIN_CLIENT_SECRET (never on the command line).
Also reads LOOKER_API_URL (or LOOKER_URL), LOOKER_CLIENT_ID and GATEWAY_URL: with
--env NAME from that environment's [vars] in wrangler.toml, else from .dev.vars; the
shell's environment overrides either. Without --apply, changes to an existing app are only shown.`;

const DEFAULT_DISPLAY_NAME = 'Looker OAuth Gateway';
const DEFAULT_DESCRIPTION = 'Sign in with Looker to use the Looker API through the team gateway, without API keys.';

export async function register({ vars, argv, fetch, print }: ToolInput): Promise<number> {
  const args = parseArgs(argv, { flags: ['apply', 'help'], values: ['display-name', 'description', 'group-id'] });
  if (args.flags.has('help')) {
    print(REGISTER_USAGE);
    return 0;
  }
  if (args.errors.length > 0) {
    for (const e of args.errors) print(`✗ ${e}`);
    print(REGISTER_USAGE);
    return 2;
  }

  const problems: ConfigProblem[] = [];
  const rawApi = vars.LOOKER_API_URL ?? vars.LOOKER_URL;
  const apiUrl =
    rawApi === undefined
      ? (problems.push({ variable: 'LOOKER_API_URL', problem: 'is required (or LOOKER_URL): the Looker API base URL' }), undefined)
      : parseBaseUrl(rawApi, vars.LOOKER_API_URL === undefined ? 'LOOKER_URL' : 'LOOKER_API_URL', problems);
  const clientGuid = vars.LOOKER_CLIENT_ID;
  if (clientGuid === undefined || clientGuid === '') {
    problems.push({ variable: 'LOOKER_CLIENT_ID', problem: 'is required: the client_guid to register the app under (e.g. looker-oauth-gateway)' });
  }
  const gatewayOrigin =
    vars.GATEWAY_URL === undefined
      ? (problems.push({ variable: 'GATEWAY_URL', problem: 'is required: the public origin of the gateway (redirect_uri = GATEWAY_URL/callback)' }), undefined)
      : parseOrigin(vars.GATEWAY_URL, 'GATEWAY_URL', problems);
  const adminId = vars.LOOKER_ADMIN_CLIENT_ID;
  const adminSecret = vars.LOOKER_ADMIN_CLIENT_SECRET;
  if (!adminId) problems.push({ variable: 'LOOKER_ADMIN_CLIENT_ID', problem: "is required: an admin's API client_id (Admin → Users → Edit keys)" });
  if (!adminSecret) problems.push({ variable: 'LOOKER_ADMIN_CLIENT_SECRET', problem: 'is required: the client_secret of that API key' });
  if (problems.length > 0 || apiUrl === undefined || gatewayOrigin === undefined || !clientGuid || !adminId || !adminSecret) {
    for (const p of problems) print(`✗ ${p.variable} ${p.problem}`);
    return 1;
  }

  const groupId = args.values.get('group-id');
  const desired: OAuthAppSettings = {
    redirect_uri: `${gatewayOrigin}/callback`,
    display_name: args.values.get('display-name') ?? DEFAULT_DISPLAY_NAME,
    description: args.values.get('description') ?? DEFAULT_DESCRIPTION,
    enabled: true,
    ...(groupId === undefined ? {} : { group_id: groupId }),
  };
  print(`Looker API:   ${apiUrl}`);
  print(`client_guid:  ${clientGuid}`);
  print(`redirect_uri: ${desired.redirect_uri}`);

  let session: LookerAdminSession;
  try {
    session = await LookerAdminSession.login(fetch, apiUrl, adminId, adminSecret);
  } catch (error) {
    print(`✗ ${error instanceof Error ? error.message : 'Logging in failed.'}`);
    return 1;
  }
  try {
    const existing = await session.getApp(clientGuid);
    if (existing === null) {
      await session.createApp(clientGuid, desired);
      print(`✓ Registered the OAuth client app "${clientGuid}".`);
      return 0;
    }
    const changes = differences(existing, desired, {
      displayName: args.values.has('display-name'),
      description: args.values.has('description'),
      groupId: args.values.has('group-id'),
    });
    if (changes.length === 0) {
      print(`✓ The OAuth client app "${clientGuid}" is registered and up to date; nothing to do.`);
      return 0;
    }
    print(`The OAuth client app "${clientGuid}" exists and differs:`);
    for (const change of changes) print(`  ${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`);
    if (!args.flags.has('apply')) {
      print('Dry run: nothing changed. Run again with --apply to make these changes.');
      return 0;
    }
    await session.updateApp(clientGuid, Object.fromEntries(changes.map((c) => [c.field, c.to])));
    print(`✓ Updated the OAuth client app "${clientGuid}".`);
    return 0;
  } catch (error) {
    if (!(error instanceof AdminToolError)) throw error;
    print(`✗ ${error.message}`);
    return 1;
  } finally {
    print((await session.logout()) ? '✓ Closed the admin API session.' : '! Could not close the admin API session (it expires within an hour).');
  }
}

function differences(
  existing: RegisteredApp,
  desired: OAuthAppSettings,
  given: { displayName: boolean; description: boolean; groupId: boolean },
): { field: keyof OAuthAppSettings; from: unknown; to: unknown }[] {
  const fields: (keyof OAuthAppSettings)[] = ['redirect_uri', 'enabled'];
  if (given.displayName) fields.push('display_name');
  if (given.description) fields.push('description');
  if (given.groupId) fields.push('group_id');
  return fields
    .filter((field) => String(existing[field] ?? '') !== String(desired[field] ?? ''))
    .map((field) => ({ field, from: existing[field] ?? null, to: desired[field] }));
}
