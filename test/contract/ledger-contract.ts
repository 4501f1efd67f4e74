/**
 * The ledger's contract (src/grants/ledger.ts), one suite for every implementation: the
 * Durable Object (test/contract/durable-objects.test.ts, in the Workers runtime) and Deno
 * KV (test/deno/contract_test.ts, under `deno test`). The races the gateway relies on:
 * a refresh racing a sign-out, two refreshers, a lost lease, a retried store, an ended
 * grant that nothing brings back, the token cap, boxes taken once.
 */
import type { GrantEntry, Ledger, PendingBox, TokenEntry, TokenPair } from '../../src/grants/ledger.ts';
import { equal, ok, type Register, stillWaiting, within } from './contract.ts';

export interface LedgerSubject {
  /** A fresh, empty ledger. */
  ledger: Ledger;
  /** Lets time pass on the clock refresh leases are judged by (at least `ms`). */
  passLeaseTime(ms: number): Promise<void>;
  /** Releases what the subject holds (called after each case). */
  close?(): Promise<void> | void;
}

/** The gateway's clock in these cases (passed to every call, as the gateway does). */
const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const HOUR = 3600_000;
const DAY = 24 * HOUR;

const grant = (grantId: string, overrides: Partial<GrantEntry> = {}): GrantEntry => ({
  grantId,
  kind: 'session',
  label: `browser ${grantId}`,
  createdAt: T0,
  lastUsedAt: T0,
  expiresAt: T0 + 30 * DAY,
  version: 1,
  sealed: `sealed-${grantId}-1`,
  revocation: `revocation-${grantId}-1`,
  kvKeys: [`session:${grantId}`],
  ...overrides,
});

const next = (grantId: string, version: number, tag = '') => ({
  version,
  sealed: `sealed-${grantId}-${version}${tag}`,
  revocation: `revocation-${grantId}-${version}${tag}`,
  expiresAt: T0 + 30 * DAY,
});

const token = (grantId: string, issuedAt: number, lifetime = HOUR): TokenEntry => ({ grantId, issuedAt, expiresAt: issuedAt + lifetime, sealed: `payload-${issuedAt}` });

/** An agent's refresh token `r` and access token `t` for a grant (a pair, as the token endpoint issues them). */
const pair = (grantId: string, r: string, t: string, issuedAt = T0): TokenPair => ({
  refreshId: r,
  refresh: { grantId, issuedAt, expiresAt: T0 + 30 * DAY, sealed: `refresh-payload-${r}` },
  tokenId: t,
  token: token(grantId, issuedAt),
});

const box = (name: string): PendingBox => ({ salt: `salt-${name}`, sealed: `sealed-${name}`, name, user: { id: '7', displayName: 'Ada', email: 'ada@example.com' } });

export function describeLedgerContract(name: string, make: () => Promise<LedgerSubject> | LedgerSubject, register: Register): void {
  const test = (title: string, run: (subject: LedgerSubject) => Promise<void>) =>
    register(`${name}: ${title}`, async () => {
      const subject = await make();
      try {
        await run(subject);
      } finally {
        await subject.close?.();
      }
    });

  test('a grant is alive until it ends or expires; a known version is not sent again; list shows what is alive, oldest first', async ({ ledger }) => {
    await ledger.createGrant(grant('b', { createdAt: T0 + 1 }));
    await ledger.createGrant(grant('a', { kind: 'credential', label: 'ci', clientId: 'lgwc_x', lastUsedAt: 0 }));
    await ledger.createGrant(grant('old', { expiresAt: T0 + 10 }));
    equal(await ledger.check('a', 0, T0, false), { alive: true, version: 1, sealed: 'sealed-a-1' }, 'an unknown version gets the sealed grant');
    equal(await ledger.check('a', 1, T0, false), { alive: true, version: 1, sealed: null }, 'a known version does not');
    equal(await ledger.check('old', 0, T0 + 10, false), { alive: false }, 'expired at its expiry, whatever is stored');
    equal(await ledger.check('missing', 0, T0, false), { alive: false }, 'a grant the ledger does not hold is over');
    equal(
      await ledger.list(T0 + 10),
      [
        { grantId: 'a', kind: 'credential', label: 'ci', scope: 'write', createdAt: T0, lastUsedAt: 0, expiresAt: T0 + 30 * DAY, clientId: 'lgwc_x' },
        { grantId: 'b', kind: 'session', label: 'browser b', scope: 'write', createdAt: T0 + 1, lastUsedAt: T0, expiresAt: T0 + 30 * DAY },
      ],
      'list',
    );
  });

  test("a grant's scope is kept through refreshes and listed; one stored before scopes (no scope) lists as write", async ({ ledger }) => {
    await ledger.createGrant(grant('ro', { kind: 'credential', label: 'report', scope: 'read', clientId: 'lgwc_r', lastUsedAt: 0 }));
    await ledger.createGrant(grant('rw', { kind: 'credential', label: 'deploy', scope: 'write', clientId: 'lgwc_w', lastUsedAt: 0, createdAt: T0 + 1 }));
    // As a grant stored by a gateway from before scopes: no scope field at all.
    await ledger.createGrant(grant('old', { createdAt: T0 + 2 }));
    const ticket = await ledger.beginRefresh('ro', 1, T0);
    ok('lease' in ticket, 'a lease for the read-only grant');
    equal(await ledger.completeRefresh('ro', (ticket as { lease: string }).lease, next('ro', 2), T0), 'stored', 'refreshed');
    equal(
      (await ledger.list(T0)).map((g) => [g.grantId, g.scope]),
      [
        ['ro', 'read'],
        ['rw', 'write'],
        ['old', 'write'],
      ],
      'each scope as created; none means write',
    );
    await ledger.putBox('code:ro', { ...box('ro'), scope: 'read' }, T0 + 60_000);
    equal((await ledger.takeBox('code:ro', T0))?.scope, 'read', "a box keeps the scope it waits with");
  });

  test('use is recorded coarsely: the first use always, later ones at most once a minute', async ({ ledger }) => {
    await ledger.createGrant(grant('a', { lastUsedAt: 0 }));
    await ledger.check('a', 1, T0 + 5_000, true);
    equal((await ledger.list(T0))[0]?.lastUsedAt, T0 + 5_000, 'first use');
    await ledger.check('a', 1, T0 + 30_000, true);
    equal((await ledger.list(T0))[0]?.lastUsedAt, T0 + 5_000, 'not again within a minute');
    await ledger.check('a', 1, T0 + 70_000, true);
    equal((await ledger.list(T0))[0]?.lastUsedAt, T0 + 70_000, 'a minute later');
  });

  test('refresh racing a sign-out: the sign-out ends the grant, and the refreshed grant is not stored', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const ticket = await ledger.beginRefresh('g', 1, T0);
    ok('lease' in ticket, 'the first refresher gets the lease');
    const ended = await ledger.end({ grantId: 'g' });
    equal(ended, [{ grantId: 'g', kind: 'session', kvKeys: ['session:g'], revocation: 'revocation-g-1' }], 'what sign-out ended');
    equal(await ledger.completeRefresh('g', 'lease' in ticket ? ticket.lease : '', next('g', 2), T0), 'ended', 'the late store');
    equal(await ledger.check('g', 0, T0, false), { alive: false }, 'still ended');
    equal(await ledger.beginRefresh('g', 1, T0), { ended: true }, 'no new refresh of an ended grant');
    equal(await ledger.end({ grantId: 'g' }), [], 'ending it again ends nothing');
  });

  test('a refresh stored before the sign-out is ended by it, with the refreshed access token to revoke', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const ticket = await ledger.beginRefresh('g', 1, T0);
    equal(await ledger.completeRefresh('g', 'lease' in ticket ? ticket.lease : '', next('g', 2), T0), 'stored', 'stored');
    equal((await ledger.end({ grantId: 'g' }))[0]?.revocation, 'revocation-g-2', 'the sign-out revokes the current token');
  });

  test('two refreshers: the second waits for the first and adopts its result; one refresh', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const first = await ledger.beginRefresh('g', 1, T0);
    ok('lease' in first, 'the first gets the lease');
    const second = ledger.beginRefresh('g', 1, T0);
    ok(await stillWaiting(second), 'the second waits while the lease is held');
    equal(await ledger.completeRefresh('g', 'lease' in first ? first.lease : '', next('g', 2), T0), 'stored', 'the first stores');
    equal(await second, { current: { version: 2, sealed: 'sealed-g-2' } }, 'the second adopts version 2');
    ok('lease' in (await within(ledger.beginRefresh('g', 2, T0), 5_000, 'the next refresh')), 'storing released the lease');
  });

  test('a refresher that need not wait is told the lease is busy at once, and gets it once it is free', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const first = await ledger.beginRefresh('g', 1, T0);
    ok('lease' in first, 'the first gets the lease');
    equal(await within(ledger.beginRefresh('g', 1, T0, { wait: false }), 5_000, 'an answer without waiting'), { busy: true }, 'busy, at once');
    await ledger.releaseRefresh('g', 'lease' in first ? first.lease : '');
    ok('lease' in (await within(ledger.beginRefresh('g', 1, T0, { wait: false }), 5_000, 'the lease')), 'free again: the lease');
  });

  test('a released lease goes to the one waiting; a sign-out ends the wait', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const first = await ledger.beginRefresh('g', 1, T0);
    const second = ledger.beginRefresh('g', 1, T0);
    ok(await stillWaiting(second), 'waiting');
    await ledger.releaseRefresh('g', 'lease' in first ? first.lease : '');
    const taken = await second;
    ok('lease' in taken, 'the waiter gets the lease once it is released');
    const third = ledger.beginRefresh('g', 1, T0);
    ok(await stillWaiting(third), 'a third waits for the second');
    await ledger.end({ grantId: 'g' });
    equal(await third, { ended: true }, 'a sign-out ends the wait');
  });

  test('a lost lease: after the lease time another refresher gets in; the version decides what is stored', async ({ ledger, passLeaseTime }) => {
    await ledger.createGrant(grant('g'));
    const lost = await ledger.beginRefresh('g', 1, T0);
    ok('lease' in lost, 'lease');
    await passLeaseTime(61_000);
    const taken = await ledger.beginRefresh('g', 1, T0);
    ok('lease' in taken && 'lease' in lost && taken.lease !== lost.lease, 'a new lease, once the old one expired');
    equal(await ledger.completeRefresh('g', 'lease' in taken ? taken.lease : '', next('g', 2, 'b'), T0), 'stored', 'the new holder stores');
    equal(await ledger.completeRefresh('g', 'lease' in lost ? lost.lease : '', next('g', 2, 'a'), T0), 'superseded', 'the late one does not overwrite it');
    equal(await ledger.check('g', 0, T0, false), { alive: true, version: 2, sealed: 'sealed-g-2b' }, 'version 2 is the new holder\'s');
  });

  test('a lost lease whose holder stores first: its tokens are the ones kept (they may be the only ones Looker honours)', async ({ ledger, passLeaseTime }) => {
    await ledger.createGrant(grant('g'));
    const lost = await ledger.beginRefresh('g', 1, T0);
    await passLeaseTime(61_000);
    const taken = await ledger.beginRefresh('g', 1, T0);
    equal(await ledger.completeRefresh('g', 'lease' in lost ? lost.lease : '', next('g', 2, 'a'), T0), 'stored', 'the first to store the next version');
    equal(await ledger.completeRefresh('g', 'lease' in taken ? taken.lease : '', next('g', 2, 'b'), T0), 'superseded', 'the other is superseded');
    equal(await ledger.beginRefresh('g', 1, T0), { current: { version: 2, sealed: 'sealed-g-2a' } }, 'version 2 is adopted');
    ok('lease' in (await within(ledger.beginRefresh('g', 2, T0), 5_000, 'the next refresh')), 'and the lease is free again');
  });

  test('a retried store (the answer was lost) is stored once; a different grant of the same version is superseded', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const ticket = await ledger.beginRefresh('g', 1, T0);
    const lease = 'lease' in ticket ? ticket.lease : '';
    equal(await ledger.completeRefresh('g', lease, next('g', 2), T0), 'stored', 'first');
    equal(await ledger.completeRefresh('g', lease, next('g', 2), T0), 'stored', 'the same values again');
    equal(await ledger.completeRefresh('g', lease, next('g', 2, 'other'), T0), 'superseded', 'other values, same version');
    equal(await ledger.completeRefresh('g', lease, next('g', 4), T0), 'superseded', 'a version that skips one');
    equal(await ledger.check('g', 0, T0, false), { alive: true, version: 2, sealed: 'sealed-g-2' }, 'stored once');
    ok('lease' in (await within(ledger.beginRefresh('g', 2, T0), 5_000, 'the next refresh')), 'the lease was released');
  });

  test('Looker refused a refresh: the grant ends, unless a newer version was stored meanwhile', async ({ ledger }) => {
    await ledger.createGrant(grant('g'));
    const ticket = await ledger.beginRefresh('g', 1, T0);
    await ledger.completeRefresh('g', 'lease' in ticket ? ticket.lease : '', next('g', 2), T0);
    equal(await ledger.endUnlessNewer('g', 1), { current: { version: 2, sealed: 'sealed-g-2' } }, 'newer: adopt it');
    equal(await ledger.endUnlessNewer('g', 2), { ended: { grantId: 'g', kind: 'session', kvKeys: ['session:g'], revocation: 'revocation-g-2' } }, 'ended');
    equal(await ledger.endUnlessNewer('g', 2), { ended: null }, 'already over');
  });

  test('an ended grant stays ended: no refresh, no token, its tokens dead', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'credential' }));
    equal((await ledger.mintToken('t1', token('g', T0), T0)).ok, true, 'a token for a live grant');
    equal((await ledger.checkToken('t1', 1, T0)).alive, true, 'alive');
    await ledger.end({ all: true });
    equal(await ledger.checkToken('t1', 1, T0), { alive: false }, 'the token died with its grant');
    equal(await ledger.mintToken('t2', token('g', T0), T0), { ok: false }, 'no new token');
    equal(await ledger.check('g', 0, T0, true), { alive: false }, 'a touch does not bring it back');
    equal(await ledger.list(T0), [], 'nothing listed');
  });

  test('sign out everywhere ends every grant at once and says what was alive', async ({ ledger }) => {
    for (const id of ['a', 'b', 'c']) await ledger.createGrant(grant(id));
    const ended = await ledger.end({ all: true });
    equal(ended.map((e) => e.grantId).sort(), ['a', 'b', 'c'], 'all three');
    for (const id of ['a', 'b', 'c']) equal(await ledger.check(id, 0, T0, false), { alive: false }, `${id} ended`);
  });

  test('gateway tokens: alive with their grant, up to their own expiry; ended one by one', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'credential', expiresAt: T0 + 2 * HOUR }));
    equal(await ledger.mintToken('t', token('g', T0, 3 * HOUR), T0), { ok: true, version: 1, sealed: 'sealed-g-1' }, 'minted');
    equal(
      await ledger.checkToken('t', 0, T0 + 1),
      { alive: true, grantId: 'g', expiresAt: T0 + 2 * HOUR, payload: `payload-${T0}`, version: 1, sealed: 'sealed-g-1' },
      'its expiry is at most its grant\'s',
    );
    equal(await ledger.checkToken('t', 1, T0 + 2 * HOUR), { alive: false }, 'dead when the grant expires');
    await ledger.mintToken('u', token('g', T0), T0);
    equal(await ledger.endToken('u'), true, 'ended');
    equal(await ledger.endToken('u'), false, 'only once');
    equal(await ledger.checkToken('u', 1, T0), { alive: false }, 'dead');
  });

  test('at most 50 live tokens per grant: a new one ends the oldest by when it was minted', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'credential' }));
    await ledger.createGrant(grant('other', { kind: 'credential' }));
    await ledger.mintToken('other-token', token('other', T0 - 100), T0);
    // Minted out of order: the oldest by issuedAt is number 7.
    const order = Array.from({ length: 50 }, (_, i) => (i * 7) % 50);
    for (const i of order) await ledger.mintToken(`t${i}`, token('g', T0 + i), T0 + 100);
    for (const i of order) equal((await ledger.checkToken(`t${i}`, 1, T0 + 100)).alive, true, `t${i} alive at 50`);
    await ledger.mintToken('t50', token('g', T0 + 50), T0 + 100);
    equal((await ledger.checkToken('t0', 1, T0 + 100)).alive, false, 'the oldest went');
    for (let i = 1; i <= 50; i++) equal((await ledger.checkToken(`t${i}`, 1, T0 + 100)).alive, true, `t${i} still alive`);
    equal((await ledger.checkToken('other-token', 1, T0 + 100)).alive, true, "another grant's tokens are not counted");
  });

  test('expired tokens do not count toward the cap', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'credential' }));
    for (let i = 0; i < 50; i++) await ledger.mintToken(`old${i}`, token('g', T0 + i, 1000), T0);
    await ledger.mintToken('new0', token('g', T0 + 5000), T0 + 5000);
    await ledger.mintToken('new1', token('g', T0 + 5001), T0 + 5001);
    equal((await ledger.checkToken('new0', 1, T0 + 5001)).alive, true, 'a new token, the others expired');
    equal((await ledger.checkToken('old49', 1, T0 + 5001)).alive, false, 'expired');
  });

  test('a box is taken once, even by two takers at once; an expired box is nothing', async ({ ledger }) => {
    await ledger.putBox('code:abc', box('abc'), T0 + 60_000);
    equal(await ledger.getBox('code:abc', T0), box('abc'), 'looked at');
    equal(await ledger.getBox('code:abc', T0), box('abc'), 'looking does not take it');
    const [x, y] = await Promise.all([ledger.takeBox('code:abc', T0), ledger.takeBox('code:abc', T0)]);
    equal([x, y].filter((b) => b !== null), [box('abc')], 'exactly one taker gets it');
    equal(await ledger.getBox('code:abc', T0), null, 'gone');
    await ledger.putBox('code:late', box('late'), T0 + 60_000);
    equal(await ledger.getBox('code:late', T0 + 60_000), null, 'expired: nothing to look at');
    equal(await ledger.takeBox('code:late', T0 + 60_000), null, 'expired: nothing to take');
  });

  test('takeBoxes takes every live box under the prefixes, once, and leaves the others', async ({ ledger }) => {
    await ledger.putBox('consent:1', box('c1'), T0 + 60_000);
    await ledger.putBox('consent:2', box('c2'), T0 + 60_000);
    await ledger.putBox('code:1', box('k1'), T0 + 60_000);
    await ledger.putBox('device-grant:1', box('d1'), T0 + 1);
    await ledger.putBox('other:1', box('o1'), T0 + 60_000);
    const taken = await ledger.takeBoxes(['consent:', 'code:', 'device-grant:'], T0 + 10);
    equal(taken.map((b) => b.name).sort(), ['c1', 'c2', 'k1'], 'the live ones (the expired one is dropped)');
    equal(await ledger.takeBoxes(['consent:', 'code:', 'device-grant:'], T0 + 10), [], 'taken once');
    equal(await ledger.getBox('other:1', T0), box('o1'), 'another prefix is left');
  });

  test('agent refresh tokens: a pair is issued for a live grant only; a rotation spends the presented token and stores the next pair', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'agent', scope: 'read', redirectHost: 'claude.ai', clientId: 'lgwi_x' }));
    equal(await ledger.issuePair(pair('missing', 'r0', 't0'), T0), { ok: false, ended: null }, 'no pair for a grant the ledger does not hold');
    equal(await ledger.issuePair(pair('g', 'r1', 't1'), T0), { ok: true, version: 1, sealed: 'sealed-g-1' }, 'the first pair');
    equal(await ledger.getRefresh('r1', T0), pair('g', 'r1', 't1').refresh, 'the refresh token, unspent');
    equal((await ledger.checkToken('t1', 1, T0)).alive, true, 'its access token lives');
    equal(await ledger.rotateRefresh('r1', pair('g', 'r2', 't2'), T0 + 1), { ok: true, version: 1, sealed: 'sealed-g-1' }, 'rotated');
    equal((await ledger.getRefresh('r1', T0 + 1))?.spent, true, 'the presented one is spent');
    equal((await ledger.getRefresh('r2', T0 + 1))?.spent, undefined, 'the next one is current');
    equal((await ledger.checkToken('t2', 1, T0 + 1)).alive, true, 'the new access token lives');
    equal(await ledger.rotateRefresh('unknown', pair('g', 'r9', 't9'), T0 + 1), { ok: false, ended: null }, 'an unknown token changes nothing');
    equal((await ledger.check('g', 1, T0 + 1, false)).alive, true, 'the grant lives on');
    const listedAgent = (await ledger.list(T0 + 1)).find((g) => g.grantId === 'g');
    equal([listedAgent?.kind, listedAgent?.scope, listedAgent?.redirectHost], ['agent', 'read', 'claude.ai'], 'listed with its scope and redirect host');
  });

  test('a spent refresh token presented again ends the whole grant: its tokens, its refresh tokens, and says what ended', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'agent', scope: 'write' }));
    await ledger.createGrant(grant('other'));
    await ledger.issuePair(pair('g', 'r1', 't1'), T0);
    await ledger.rotateRefresh('r1', pair('g', 'r2', 't2'), T0 + 1);
    const replay = await ledger.rotateRefresh('r1', pair('g', 'r3', 't3'), T0 + 2);
    equal(replay.ok, false, 'refused');
    equal(!replay.ok && replay.ended?.grantId, 'g', 'the ended grant is named (its Looker token to revoke)');
    equal(await ledger.check('g', 0, T0 + 2, false), { alive: false }, 'the grant is over');
    equal((await ledger.checkToken('t2', 1, T0 + 2)).alive, false, 'its access tokens are dead');
    equal(await ledger.rotateRefresh('r2', pair('g', 'r4', 't4'), T0 + 3), { ok: false, ended: null }, 'the current refresh token no longer works');
    equal(await ledger.getRefresh('r3', T0 + 3), null, 'the replay stored nothing');
    equal((await ledger.check('other', 0, T0 + 3, false)).alive, true, 'another grant is untouched');
  });

  test('two rotations of one refresh token at once: one gets the next pair, the other is a replay and ends the grant', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'agent' }));
    await ledger.issuePair(pair('g', 'r1', 't1'), T0);
    const [a, b] = await Promise.all([ledger.rotateRefresh('r1', pair('g', 'ra', 'ta'), T0 + 1), ledger.rotateRefresh('r1', pair('g', 'rb', 'tb'), T0 + 1)]);
    equal([a.ok, b.ok].filter(Boolean).length, 1, 'exactly one rotation');
    equal([a, b].filter((o) => !o.ok && o.ended?.grantId === 'g').length, 1, 'the other ended the grant');
    equal(await ledger.check('g', 0, T0 + 2, false), { alive: false }, 'over');
  });

  test('an expired refresh token is nothing; ending the grant ends its refresh tokens', async ({ ledger }) => {
    await ledger.createGrant(grant('g', { kind: 'agent' }));
    await ledger.issuePair({ ...pair('g', 'r1', 't1'), refresh: { grantId: 'g', issuedAt: T0, expiresAt: T0 + 10, sealed: 'x' } }, T0);
    equal(await ledger.getRefresh('r1', T0 + 10), null, 'expired');
    equal(await ledger.rotateRefresh('r1', pair('g', 'r2', 't2'), T0 + 10), { ok: false, ended: null }, 'refused, the grant untouched');
    await ledger.issuePair(pair('g', 'r5', 't5'), T0 + 11);
    await ledger.end({ grantId: 'g' });
    equal(await ledger.getRefresh('r5', T0 + 12), null, 'gone with its grant');
  });
}
