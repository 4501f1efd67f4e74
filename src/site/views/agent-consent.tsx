import type { AgentFlow, PendingConsent } from '../../callers/credential-flows.ts';
import { AllowDeny } from './allow-deny.tsx';
import { Layout } from './layout.tsx';

/** What a grant's scope lets an agent do, in words a person can judge. */
export function scopeInWords(scope: 'read' | 'write'): string {
  return scope === 'write' ? 'read and change your Looker data' : 'read your Looker data';
}

/**
 * "Allow <client> to read your Looker data as <person>?" — with what the person needs to
 * judge it: the name is the client's own claim, where the answer goes, how the client
 * became known; read-only unless the person ticks write access themselves.
 */
export function AgentConsentPage(props: { pending: PendingConsent; flow: AgentFlow }) {
  const { pending, flow } = props;
  const redirect = new URL(flow.redirectUri);
  return (
    <Layout title="Allow an AI agent?">
      <h1>Allow an AI agent?</h1>
      <p>
        An application that calls itself <strong id="client-name">{flow.clientName}</strong> asks to use Looker as{' '}
        <strong id="person">{pending.user.displayName}</strong>
        {pending.user.email === null ? null : <> ({pending.user.email})</>}.
      </p>
      <dl id="client-facts">
        <dt>Name</dt>
        <dd>as the application claims it; nobody checked it</dd>
        <dt>Sends you back to</dt>
        <dd id="redirect-host">{redirect.host}</dd>
        <dt>Known as</dt>
        <dd id="registration">
          {flow.registration === 'metadata' ? (
            <>a client described by a document at {new URL(flow.clientId).host}</>
          ) : (
            <>a client that registered itself with this gateway</>
          )}
        </dd>
        <dt>Asks to</dt>
        <dd id="asked-scope">{scopeInWords(flow.scope)}</dd>
      </dl>
      <p class="notice error" id="judge-warning">
        Allow only if you just connected an AI tool to this gateway yourself and the address above is where that tool lives. Anything it
        does in Looker, it does as you.
      </p>
      <form method="post" action={`/oauth/consent/${pending.id}`}>
        <p>
          It may <strong>read your Looker data</strong> (run queries, see looks and dashboards).
        </p>
        {flow.scope === 'write' ? (
          <p>
            <label>
              <input type="checkbox" name="write" value="on" id="write" /> Also let it <strong>change</strong> your Looker data (create and edit
              looks, dashboards and everything else you may change)
            </label>
          </p>
        ) : null}
        <p class="actions">
          <AllowDeny />
        </p>
      </form>
      <p class="muted">You can see and revoke it any time under “Your access”.</p>
    </Layout>
  );
}
