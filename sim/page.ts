/** The simulator's HTML pages: one frame, styled like a sign-in service. */
import { html } from 'hono/html';

export function page(title: string, body: unknown) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Looker (simulator)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; background: #f1f3f4; display: flex; justify-content: center; padding-top: 10vh; margin: 0; }
          main { background: #fff; padding: 2rem 2.5rem; border-radius: 10px; max-width: 32rem; box-shadow: 0 2px 12px rgba(0,0,0,.1); }
          .brand { color: #4285f4; font-weight: 700; letter-spacing: .02em; }
          button { padding: .55rem 1.2rem; border-radius: 6px; border: 0; background: #4285f4; color: #fff; font: inherit; cursor: pointer; margin-right: .5rem; }
          button.secondary { background: #e8eaed; color: #202124; }
          .error { color: #c5221f; }
        </style>
      </head>
      <body>
        <main>
          <p class="brand">Looker · simulator</p>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

export const rejectionPage = (problem: string) => page('Request rejected', html`<p class="error">${problem}</p>`);
