/** The command line end to end (test/e2e/cli-e2e.ts): the device sign-in, and Deny at Looker and at the gateway for both sign-ins. */
import { cliEndToEnd } from './cli-e2e.ts';

cliEndToEnd('device and deny');
