import type { GrantSummary } from '../../grants/ledger.ts';
import type { LookerUser } from '../../looker/api.ts';
import { scopeInWords } from './agent-consent.tsx';
import { Layout } from './layout.tsx';
import { When } from './when.tsx';

function Revoke(props: { grantId: string; label: string }) {
  return (
    <form method="post" action="/access/revoke">
      <input type="hidden" name="grant" value={props.grantId} />
      <button type="submit" class="small danger" aria-label={`Revoke ${props.label}`}>
        Revoke
      </button>
    </form>
  );
}

export function AccessPage(props: { user: LookerUser; grants: GrantSummary[]; currentGrantId: string; notice?: string }) {
  const sessions = props.grants.filter((g) => g.kind === 'session');
  const credentials = props.grants.filter((g) => g.kind === 'credential');
  const agents = props.grants.filter((g) => g.kind === 'agent');
  return (
    <Layout title="Your access" wide>
      <h1>Your access</h1>
      {props.notice === undefined ? null : <p class="notice">{props.notice}</p>}
      <p>
        Everything that can use the Looker API as <strong>{props.user.displayName}</strong>
        {props.user.email === null ? null : <> ({props.user.email})</>} through this gateway. Revoking one ends it here and at
        Looker; nothing else is touched.
      </p>

      <h2>Browser sessions</h2>
      <div class="scroll">
      <table id="sessions">
        <thead>
          <tr>
            <th>Browser</th>
            <th>Signed in</th>
            <th>Last seen</th>
            <th>Expires</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr>
              <td>
                {s.label}
                {s.grantId === props.currentGrantId ? <span class="tag">this browser</span> : null}
              </td>
              <td>
                <When ms={s.createdAt} />
              </td>
              <td>
                <When ms={s.lastUsedAt} />
              </td>
              <td>
                <When ms={s.expiresAt} />
              </td>
              <td>
                <Revoke grantId={s.grantId} label={s.label} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>

      <h2>Script credentials</h2>
      {credentials.length === 0 ? (
        <p class="muted" id="no-credentials">
          None yet. Create one below, or sign in the computer that needs it with the command line (see the home page).
        </p>
      ) : (
        <div class="scroll">
        <table id="credentials">
          <thead>
            <tr>
              <th>Name and client_id</th>
              <th>May</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Expires</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {credentials.map((cr) => (
              <tr>
                <td>
                  {cr.label}
                  <br />
                  <code class="client-id">{cr.clientId ?? '—'}</code>
                </td>
                <td>{cr.scope === 'read' ? 'read-only' : 'read and write'}</td>
                <td>
                  <When ms={cr.createdAt} />
                </td>
                <td>{cr.lastUsedAt === 0 ? 'never' : <When ms={cr.lastUsedAt} />}</td>
                <td>
                  <When ms={cr.expiresAt} />
                </td>
                <td>
                  <Revoke grantId={cr.grantId} label={cr.label} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}

      <h2>AI agents</h2>
      {agents.length === 0 ? (
        <p class="muted" id="no-agents">
          None. An AI tool (an MCP client) connected to this gateway is listed here once you allow it.
        </p>
      ) : (
        <div class="scroll">
        <table id="agents">
          <thead>
            <tr>
              <th>Application (its own name)</th>
              <th>Sends you back to</th>
              <th>May</th>
              <th>Allowed</th>
              <th>Last used</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr>
                <td>
                  {a.label}
                  {a.clientId === undefined ? null : (
                    <div class="muted client-id" title={a.clientId}>
                      {shortClientId(a.clientId)}
                    </div>
                  )}
                </td>
                <td>{a.redirectHost ?? '—'}</td>
                <td>{scopeInWords(a.scope ?? 'write')}</td>
                <td>
                  <When ms={a.createdAt} />
                </td>
                <td>{a.lastUsedAt === 0 ? 'never' : <When ms={a.lastUsedAt} />}</td>
                <td>
                  <Revoke grantId={a.grantId} label={a.label} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}

      <h2>New script credential</h2>
      <form method="post" action="/access/credentials" class="actions">
        <label>
          Name{' '}
          <input type="text" name="name" maxlength={64} placeholder="nightly job" />
        </label>
        <label>
          <input type="checkbox" name="read_only" value="yes" /> Read-only
        </label>
        <button type="submit">Create credential</button>
      </form>
      <p class="muted">
        Without a name it is called “Your access · <i>date and time</i>”. You then approve it twice, at Looker and here: each credential
        gets its own Looker sign-in, so revoking it touches nothing else. A read-only credential may read your Looker data and run
        queries, but not change anything or use SQL Runner.
      </p>

      <h2>Everywhere</h2>
      <p>
        <a class="button danger" href="/access/sign-out-everywhere">
          Sign out everywhere…
        </a>
      </p>
      <p class="muted">Ends every browser session, script credential and AI agent above, including this browser's. You are asked to confirm.</p>
      <p>
        <a href="/">Home</a>
      </p>
    </Layout>
  );
}

/** "Sign out everywhere?" — what it ends, and one POST to do it. */
export function SignOutEverywherePage(props: { sessions: number; credentials: GrantSummary[]; agents?: number }) {
  return (
    <Layout title="Sign out everywhere?">
      <h1>Sign out everywhere?</h1>
      <p>
        This ends <strong>{props.sessions}</strong> browser {props.sessions === 1 ? 'session' : 'sessions'} (this one included) and{' '}
        <strong>{props.credentials.length}</strong> script {props.credentials.length === 1 ? 'credential' : 'credentials'}
        {props.agents === undefined || props.agents === 0 ? null : (
          <>
            {' '}and <strong id="agents-to-end">{props.agents}</strong> AI {props.agents === 1 ? 'agent' : 'agents'}
          </>
        )}
        , here and at Looker. Scripts using them stop working until someone signs them in again.
      </p>
      {props.credentials.length === 0 ? null : (
        <ul id="credentials-to-end">
          {props.credentials.map((c) => (
            <li>{c.label}</li>
          ))}
        </ul>
      )}
      <form method="post" action="/access/sign-out-everywhere" class="actions">
        <button type="submit" class="danger">
          Yes, sign out everywhere
        </button>
        <a href="/access">Cancel</a>
      </form>
    </Layout>
  );
}

/** How much of a metadata document's URL the table shows (the whole is in the title). */
const SHOWN_URL_MAX = 64;

/**
 * An agent's client id, short enough for the table and long enough to tell apart two
 * agents of the same name (a client that registered itself each time it connected): a
 * metadata document's URL by its beginning (its host), a registered id by its first
 * characters. A client chooses its URL (up to 2,000 characters): shown whole, it would
 * push the row's Revoke button out of sight.
 */
function shortClientId(clientId: string): string {
  if (clientId.startsWith('https://')) return clientId.length <= SHOWN_URL_MAX ? clientId : `${clientId.slice(0, SHOWN_URL_MAX - 1)}…`;
  return clientId.length <= 16 ? clientId : `${clientId.slice(0, 16)}…`;
}
