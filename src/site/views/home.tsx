import type { LookerUser } from '../../looker/api.ts';
import { Layout } from './layout.tsx';
import { When } from './when.tsx';

export function SignedOutPage(props: { notice?: string }) {
  return (
    <Layout title="Sign in">
      <h1>Looker OAuth Gateway</h1>
      {props.notice === undefined ? null : <p class="notice">{props.notice}</p>}
      <p>
        This gateway lets you and your scripts reach the Looker API with your own Looker
        sign-in, instead of API keys kept in a <code>looker.ini</code> or <code>.netrc</code>.
      </p>
      <p>Signing in sends you to Looker, which asks you to approve this app once.</p>
      <p>
        <a class="button" href="/login">
          Sign in with Looker
        </a>
      </p>
    </Layout>
  );
}

export function SignedInPage(props: { user: LookerUser | null; problem?: string; accessTokenExpiresAt: number; now: number; origin: string }) {
  const minutes = Math.max(0, Math.round((props.accessTokenExpiresAt - props.now) / 60_000));
  return (
    <Layout title="Signed in">
      <h1>Signed in to Looker</h1>
      {props.problem === undefined ? null : <p class="notice error">{props.problem}</p>}
      {props.user === null ? null : (
        <dl>
          <dt>Name</dt>
          <dd id="user-name">{props.user.displayName}</dd>
          <dt>Email</dt>
          <dd id="user-email">{props.user.email ?? '—'}</dd>
          <dt>Looker user id</dt>
          <dd id="user-id">{props.user.id}</dd>
        </dl>
      )}
      <p class="muted">
        Access token expires <When ms={props.accessTokenExpiresAt} /> (in about {minutes}{' '}
        min); the gateway renews it automatically.
      </p>
      <h2>Scripts and Looker SDKs</h2>
      <p>
        Sign a computer in once (Node 20 or newer), and unmodified Looker SDK scripts use the gateway
        with a credential you can see and revoke — no Looker API key:
      </p>
      <pre>
        curl -fsSL {props.origin}/cli.mjs -o lgw.mjs{'\n'}node lgw.mjs login {props.origin}
      </pre>
      <p class="muted">
        Then <code>node lgw.mjs token</code> prints a bearer token for <code>curl</code>, and <code>node lgw.mjs help</code> lists the
        other commands.
      </p>
      <div class="actions">
        <a class="button" href="/access">
          Your access
        </a>
        <form method="post" action="/logout" class="inline">
          <button type="submit" class="secondary">
            Sign out
          </button>
        </form>
      </div>
    </Layout>
  );
}
