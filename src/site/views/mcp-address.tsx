import { Layout } from './layout.tsx';

/** What a person sees who opens the MCP server's address in a browser: it is for their AI client. */
export function McpAddressPage(props: { address: string }) {
  return (
    <Layout title="The MCP server">
      <h1>This address is for your AI client</h1>
      <p>
        This is the gateway's MCP server. Give this address to your AI client (Claude, VS Code, Cursor, or any client that speaks MCP over
        HTTP with OAuth):
      </p>
      <p>
        <code id="mcp-address">{props.address}</code>
      </p>
      <p>
        The client opens a browser for you to sign in to Looker and to say what it may do. The AI agents you allowed are listed on{' '}
        <a href="/access">Your access</a>, where you can revoke them.
      </p>
    </Layout>
  );
}
