/** Served at /assets/style.css, so the CSP can forbid inline styles. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #4285f4; --fg: #1f1f1f; --bg: #f4f5f7; --card: #fff; --muted: #5f6368; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #202124; --card: #2b2c2f; --muted: #9aa0a6; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center; justify-content: center; padding: 1.5rem 0;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.card { background: var(--card); max-width: 36rem; width: calc(100% - 2rem); padding: 2rem 2.5rem; border-radius: 12px;
  box-shadow: 0 1px 3px rgba(0,0,0,.12), 0 8px 24px rgba(0,0,0,.06); }
h1 { font-size: 1.5rem; margin-top: 0; }
code { font-size: .9em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.button, button { display: inline-block; padding: .6rem 1.2rem; border: 0; border-radius: 6px; background: var(--accent);
  color: #fff; font: inherit; font-weight: 600; text-decoration: none; cursor: pointer; }
.button:hover, button:hover { filter: brightness(1.08); }
.muted { color: var(--muted); font-size: .9rem; }
.notice { padding: .6rem .9rem; border-radius: 6px; background: rgba(66,133,244,.12); }
.notice.error { background: rgba(217,48,37,.12); }
footer { margin-top: 1.25rem; color: var(--muted); font-size: .8rem; }
.card.wide { max-width: 60rem; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0 1.25rem; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid rgba(127,127,127,.25); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td form, .inline { display: inline; margin: 0; }
button.secondary { background: rgba(127,127,127,.2); color: var(--fg); }
button.danger { background: #d93025; }
button.small { padding: .25rem .7rem; font-size: .85rem; }
pre, textarea.snippet { display: block; width: 100%; padding: .7rem .9rem; border-radius: 6px; background: rgba(127,127,127,.12);
  font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--fg); border: 0; overflow-x: auto; white-space: pre; }
/* Every line shown and none broken: a long line scrolls sideways, and the box grows to make room for that scrollbar. */
textarea.snippet { resize: vertical; overflow-wrap: normal; field-sizing: content; }
time, th { white-space: nowrap; }
code.client-id { font-size: .8rem; color: var(--muted); word-break: break-all; }
div.client-id { overflow-wrap: anywhere; }
@media (max-width: 480px) { .card { padding: 1.25rem 1.1rem; } }
input[type=text] { font: inherit; padding: .45rem .6rem; border-radius: 6px; border: 1px solid rgba(127,127,127,.5);
  background: var(--card); color: var(--fg); }
input.code { font: 1.4rem/1.2 ui-monospace, monospace; letter-spacing: .15em; text-transform: uppercase; width: 15ch; max-width: 100%; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; }
.tag { font-size: .75rem; padding: .1rem .45rem; border-radius: 999px; background: rgba(66,133,244,.15); margin-left: .35rem; white-space: nowrap; }
.scroll { overflow-x: auto; }
a.button.danger { background: #d93025; }
`;
