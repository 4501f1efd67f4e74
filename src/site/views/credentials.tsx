import type { PendingConsent } from '../../callers/credential-flows.ts';
import type { Requester } from '../../callers/device-store.ts';
import { isLocalAddress } from '../../http/client.ts';
import type { LookerUser } from '../../looker/api.ts';
import { AllowDeny } from './allow-deny.tsx';
import { Layout } from './layout.tsx';
import { When } from './when.tsx';

/** "Allow <name> … to use the Looker API as <person>?" — answered by a POST from this page only. */
export function ConsentPage(props: { pending: PendingConsent; now: number }) {
  const { pending } = props;
  const { flow } = pending;
  const person = (
    <>
      <strong id="person">{pending.user.displayName}</strong>
      {pending.user.email === null ? null : <> ({pending.user.email})</>}
    </>
  );
  return (
    <Layout title="Allow access?">
      <h1>Allow access?</h1>
      {flow.kind === 'device' ? (
        <>
          <p>
            A device asks to use the Looker API as {person}. It calls itself <strong id="credential-name">{pending.name}</strong>: a name the device
            chose, not one the gateway checked.
          </p>
          <dl id="device-origin">
            <dt>Code</dt>
            <dd>
              <code>{flow.userCode}</code>
            </dd>
            <dt>Requested from</dt>
            <dd id="requested-from">{describeRequester(flow.requester)}</dd>
            <dt>Requested at</dt>
            <dd id="requested-at">
              <When ms={flow.startedAt} /> ({ago(props.now - flow.startedAt)})
            </dd>
          </dl>
          <p class="notice error" id="phishing-warning">
            Allow only if you started this sign-in yourself, just now, and your own device shows this code. If someone sent you a link or a code,
            or asked you to enter one, choose Deny: whoever started it would get access to Looker as you.
          </p>
        </>
      ) : flow.kind === 'loopback' ? (
        <>
          <p>
            Allow <strong id="credential-name">{pending.name}</strong> on this computer to use the Looker API as {person}?
          </p>
          <p class="muted" id="loopback-target">
            The credential goes to the command line waiting on this computer at port <strong>{new URL(flow.redirectUri).port}</strong> (
            <code>{new URL(flow.redirectUri).origin}</code>). Its name was chosen by that command line. If you did not just run a sign-in
            there, choose Deny.
          </p>
        </>
      ) : (
        <p>
          Allow <strong id="credential-name">{pending.name}</strong> as a new script credential to use the Looker API as {person}?
        </p>
      )}
      <p id="scope">
        {pending.scope === 'read' ? (
          <>
            It asks to <strong>read your Looker data</strong>: look at it and run queries, but not change anything or use SQL Runner.
          </>
        ) : (
          <>
            It asks to <strong>read and change your Looker data</strong> (everything your Looker role allows).
          </>
        )}
      </p>
      <p class="muted">It gets a credential of its own, which you can see and revoke under “Your access”.</p>
      <form method="post" action={`/cli/consent/${pending.id}`} class="actions">
        <AllowDeny />
      </form>
    </Layout>
  );
}

/** "203.0.113.7 (Berlin, DE)"; a local address is "this computer (127.0.0.1)", with no made-up location. */
function describeRequester(requester: Requester): string {
  if (requester.address === 'unknown') return 'an address the gateway was not told';
  if (isLocalAddress(requester.address)) return `this computer (${requester.address})`;
  const place = [requester.city, requester.country].filter((p): p is string => p !== undefined).join(', ');
  return place === '' ? requester.address : `${requester.address} (${place})`;
}

function ago(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  return minutes === 0 ? 'less than a minute ago' : minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
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
        {props.user.displayName} until <When ms={props.expiresAt} />.
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
      <Snippet id="ini-snippet" text={ini} />
      <h2>Environment variables</h2>
      <Snippet id="env-snippet" text={env} />
      <p>
        <a class="button" href="/access">
          Back to your access
        </a>
      </p>
    </Layout>
  );
}

/** Text to copy: every line shown, none broken (a long line scrolls sideways instead); selectable as a whole. */
function Snippet(props: { id: string; text: string }) {
  const text = props.text.replace(/\n$/, '');
  return (
    <textarea class="snippet" id={props.id} rows={text.split('\n').length} wrap="off" readonly spellcheck={false} autocomplete="off">
      {text}
    </textarea>
  );
}

export function DeviceEntryPage(props: { typed?: string; problem?: string }) {
  return (
    <Layout title="Sign in a device">
      <h1>Sign in a device</h1>
      {props.problem === undefined ? null : <p class="notice error">{props.problem}</p>}
      <p>Type the code that your command line shows (for example on a server you reached over SSH). It looks like BCDF-GHJK.</p>
      <form method="post" action="/device" class="actions">
        <input
          type="text"
          name="user_code"
          class="code"
          required
          autocomplete="off"
          placeholder="XXXX-XXXX"
          value={props.typed ?? ''}
          aria-label="Code"
        />
        <button type="submit">Continue</button>
      </form>
      <p class="muted">
        Looker then asks you to sign in, and the gateway asks whether to allow the device. Only enter a code that your own device shows: if
        someone sent you a code, don’t.
      </p>
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
