import type { LookerUser } from '../../looker/api.ts';
import { Layout } from './layout.tsx';

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

export function SignedInPage(props: { user: LookerUser | null; problem?: string; accessTokenExpiresAt: number; now: number }) {
  const expires = new Date(props.accessTokenExpiresAt);
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
        Access token expires <time datetime={expires.toISOString()}>{expires.toUTCString()}</time> (in about {minutes}{' '}
        min); the gateway renews it automatically.
      </p>
      <form method="post" action="/logout">
        <button type="submit">Sign out</button>
      </form>
    </Layout>
  );
}
