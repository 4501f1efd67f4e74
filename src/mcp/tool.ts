/**
 * What a tool is: its name, description and input schema (the MCP Toolbox for Looker's
 * names and arguments), whether it writes, and what it does with the caller's Looker. A
 * tool answers structured content plus a text form; an error it throws becomes a tool
 * error (`isError: true`) with a message for the agent, never a stack trace.
 */
import type { CallToolResult, McpServer, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { READ_SCOPE, WRITE_SCOPE } from '../grants/scope.ts';
import { ArgumentError, LookerError, ScopeError, type LookerCall } from './looker.ts';

export interface ToolContext {
  /** The caller's Looker, already narrowed to the grant's scope. */
  looker: LookerCall;
  /** Told the error name of anything unexpected (a bug), never the error's text. */
  onBug: (error: unknown) => void;
}

/** A tool's answer: the value for `structuredContent`, and its text form. */
export interface ToolOutput {
  structured: unknown;
  text: string;
}

export interface ToolDefinition<Input extends z.ZodObject> {
  name: string;
  description: string;
  input: Input;
  /** A write (needs `looker:write`); every other tool is read-only (`readOnlyHint: true`). */
  writes?: boolean;
  run(args: z.output<Input>, context: ToolContext): Promise<ToolOutput>;
}

/** A tool ready to be registered on a server, with its input type erased. */
export interface Tool {
  name: string;
  writes: boolean;
  register(server: McpServer, context: ToolContext): void;
}

/** A structured value whose text form is its JSON. */
export const asJson = (value: unknown): ToolOutput => ({ structured: value, text: JSON.stringify(value) });

/** The scopes a write tool asks for in its challenge: all the operation needs, in one go. */
const WRITE_SCOPES = [READ_SCOPE, WRITE_SCOPE] as const;

export function defineTool<Input extends z.ZodObject>(definition: ToolDefinition<Input>): Tool {
  const writes = definition.writes === true;
  return {
    name: definition.name,
    writes,
    register(server, context) {
      // Registered through the schema's Standard Schema face, where its output is unknown:
      // the SDK has parsed the arguments with it, so they are z.output<Input> (cast below).
      const inputSchema: StandardSchemaWithJSON = definition.input;
      server.registerTool(
        definition.name,
        {
          description: definition.description,
          inputSchema,
          // As the Toolbox marks them (lookercommon/annotations.go): Looker is a closed world,
          // and nothing here changes or deletes what exists.
          annotations: { readOnlyHint: !writes, destructiveHint: false, openWorldHint: false },
          // The SDK answers a call this grant's scopes cannot make with 403 and
          // `WWW-Authenticate: Bearer error="insufficient_scope", scope=…, resource_metadata=…`.
          ...(writes ? { scopeChallenge: challengeUnless(WRITE_SCOPES) } : {}),
        },
        async (args: unknown): Promise<CallToolResult> => {
          try {
            const output = await definition.run(args as z.output<Input>, context);
            return { content: [{ type: 'text', text: output.text }], structuredContent: output.structured as CallToolResult['structuredContent'] };
          } catch (error) {
            return toolError(error, context);
          }
        },
      );
    },
  };
}

/** A scope challenge naming all of `scopes` unless the caller holds them all. */
function challengeUnless(scopes: readonly [string, ...string[]]) {
  return ({ authInfo }: { authInfo?: { scopes: string[] } }) =>
    authInfo !== undefined && scopes.every((scope) => authInfo.scopes.includes(scope))
      ? undefined
      : { scopes, errorDescription: `This tool writes to Looker: it needs ${scopes.join(' ')}` };
}

/** An error as the agent should see it: Looker's message, the gateway's refusal, or a bad argument; anything else is a bug. */
export function toolError(error: unknown, context: ToolContext): CallToolResult {
  let text: string;
  if (error instanceof LookerError) text = `Looker answered ${error.status}: ${error.message}`;
  else if (error instanceof ScopeError || error instanceof ArgumentError) text = error.message;
  else {
    context.onBug(error);
    text = 'The gateway could not complete this call (Looker may be unreachable); try again later';
  }
  return { content: [{ type: 'text', text }], isError: true };
}
