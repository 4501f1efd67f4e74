import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

export function Layout(props: { title: string; children: Child; wide?: boolean }) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{props.title} · Looker OAuth Gateway</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/style.css" />
      </head>
      <body>
        <main class={props.wide ? 'card wide' : 'card'}>{props.children}</main>
        <footer>Looker OAuth Gateway · no Looker API keys on disk</footer>
      </body>
      </html>
    </>
  );
}
