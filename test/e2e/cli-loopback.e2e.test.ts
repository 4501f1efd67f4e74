/** The command line end to end (test/e2e/cli-e2e.ts): the loopback sign-in, status, token, logout, $BROWSER, and the served copy on Node 20. */
import { cliEndToEnd } from './cli-e2e.ts';

cliEndToEnd('loopback');
