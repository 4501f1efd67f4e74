import type { PendingConsent } from '../../callers/credential-flows.ts';
import type { LookerUser } from '../../looker/api.ts';
import { Layout } from './layout.tsx';

/** "Allow <name> … to use the Looker API as <person>?" — answered by a POST from this page only. */
export function ConsentPage(props: { pending: PendingConsent }) {
  const { pending } = props;
  const where =
    pending.flow.kind === 'loopback'
      ? 'on this computer'
      : pending.flow.kind === 'device'
        ? `on the device that showed the code ${pending.flow.userCode}`
        : 'as a new script credential';
  return (
    <Layout title="Allow access?">
      <h1>Allow access?</h1>
      <p>
        Allow <strong id="credential-name">{pending.name}</strong> {where} to use the Looker API as{' '}
        <strong id="person">{pending.user.displayName}</strong>
        {pending.user.email === null ? null : <> ({pending.user.email})</>}?
      </p>
      <p class="muted">
        It gets a credential of its own, which you can see and revoke under “Your access”. It can do in Looker whatever you can.
      </p>
      <form method="post" action={`/cli/consent/${pending.id}`} class="actions">
        <button type="submit" name="decision" value="allow" id="allow">
          Allow
        </button>
        <button type="submit" name="decision" value="deny" id="deny" class="secondary">
          Deny
        </button>
      </form>
    </Layout>
  );
}

/** The credential's secret, shown exactly once, with what to paste where. */
export function CredentialIssuedPage(props: { origin: string; clientId: string; clientSecret: string; name: string; expiresAt: number; user: LookerUser }) {
  const ini = `[Looker]\nbase_url=${props.origin}\nclient_id=${props.clientId}\nclient_secret=${props.clientSecret}\nverify_ssl=true\n`;
  const env = `export LOOKERSDK_BASE_URL='${props.origin}'\nexport LOOKERSDK_CLIENT_ID='${props.clientId}'\nexport LOOKERSDK_CLIENT_SECRET='${props.clientSecret}'\nexport LOOKERSDK_VERIFY_SSL=true\n`;
  return (
    <Layout title="Credential created" wide>
      <h1>Credential “{props.name}” created</h1>
      <p class="notice">
        Copy the secret now: it is shown only this once and the gateway keeps only a hash of it. It acts as{' '}
        {props.user.displayName} until {new Date(props.expiresAt).toISOString().slice(0, 10)}.
      </p>
      <dl>
        <dt>client_id</dt>
        <dd>
          <code id="client-id">{props.clientId}</code>
        </dd>
        <dt>client_secret</dt>
        <dd>
          <code id="client-secret">{props.clientSecret}</code>
        </dd>
      </dl>
      <h2>looker.ini</h2>
      <textarea class="snippet" id="ini-snippet" rows={6} readonly>
        {ini}
      </textarea>
      <h2>Environment variables</h2>
      <textarea class="snippet" id="env-snippet" rows={5} readonly>
        {env}
      </textarea>
      <p>
        <a class="button" href="/access">
          Back to your access
        </a>
      </p>
    </Layout>
  );
}

export function DeviceEntryPage(props: { prefill?: string; problem?: string }) {
  return (
    <Layout title="Sign in a device">
      <h1>Sign in a device</h1>
      {props.problem === undefined ? null : <p class="notice error">{props.problem}</p>}
      <p>Enter the code that the command line shows (for example on a server you reached over SSH).</p>
      <form method="post" action="/device" class="actions">
        <input type="text" name="user_code" class="code" required autocomplete="off" value={props.prefill ?? ''} aria-label="Code" />
        <button type="submit">Continue</button>
      </form>
      <p class="muted">Looker then asks you to sign in, and the gateway asks whether to allow the device.</p>
    </Layout>
  );
}

export function DoneHerePage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p id="done-message">{props.message}</p>
    </Layout>
  );
}
