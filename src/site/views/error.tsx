import type { ConfigProblem } from '../../config.ts';
import { Layout } from './layout.tsx';

export function ErrorPage(props: { title: string; message: string; action?: { href: string; label: string } }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      {props.action === undefined ? null : (
        <p>
          <a class="button" href={props.action.href}>
            {props.action.label}
          </a>
        </p>
      )}
      <p>
        <a href="/">Home</a>
      </p>
    </Layout>
  );
}

export function ConfigErrorPage(props: { problems: ConfigProblem[] }) {
  return (
    <Layout title="Configuration error">
      <h1>The gateway is not configured correctly</h1>
      <p>Fix these environment variables (in .dev.vars locally, or with wrangler secret put / [vars]) and restart:</p>
      <ul>
        {props.problems.map((p) => (
          <li>
            <code>{p.variable}</code> {p.problem}
          </li>
        ))}
      </ul>
    </Layout>
  );
}
