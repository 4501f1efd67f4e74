/**
 * Answers in the shapes Looker itself uses, so an SDK's error handling works unchanged
 * against the gateway: `{ message, documentation_url }`.
 */
const DOCS = 'https://cloud.google.com/looker/docs/r/err/4.0';

export function lookerError(message: string, status: number, path: string, method: string): { message: string; documentation_url: string } {
  return { message, documentation_url: `${DOCS}/${status}/${method.toLowerCase()}${path.replace(/^\/api\/[^/]+/, '')}` };
}
