import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFlowPackage } from '../../../agents/index.js';
import { addRoute, listRoutes, removeRoute, resolveRoute } from '../../../src/control/routes.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

describe('phone routes (migration 004)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('adds, resolves by number then trunk, lists and removes routes', async () => {
    const byNumber = await addRoute(
      db.pool,
      { number: '+15550100', flow: 'callback-request', settings: { businessName: 'Elm Dental' } },
      findFlowPackage,
    );
    await addRoute(db.pool, { trunkId: 'ST_main', flow: 'appointment-booking' }, findFlowPackage);
    expect(byNumber.settings).toEqual({ businessName: 'Elm Dental' });
    expect((await resolveRoute(db.pool, { number: '+15550100', trunkId: 'ST_main' }))?.flow).toBe(
      'callback-request',
    );
    expect((await resolveRoute(db.pool, { number: '+15550199', trunkId: 'ST_main' }))?.flow).toBe(
      'appointment-booking',
    );
    expect(await resolveRoute(db.pool, { number: '+15550199' })).toBeNull();
    expect((await listRoutes(db.pool)).map((r) => r.flow)).toEqual([
      'callback-request',
      'appointment-booking',
    ]);
    expect(await removeRoute(db.pool, '+15550100')).toBe(true);
    expect(await removeRoute(db.pool, '+15550100')).toBe(false);
  });

  it('refuses unknown flows, settings the flow rejects, bad numbers and duplicates, with the reason', async () => {
    await expect(addRoute(db.pool, { number: '+15550101', flow: 'pizza' }, findFlowPackage)).rejects.toThrow(
      'unknown flow "pizza"',
    );
    await expect(
      addRoute(
        db.pool,
        { number: '+15550101', flow: 'appointment-booking', settings: { timeZone: 'Mars/Base' } },
        findFlowPackage,
      ),
    ).rejects.toThrow(/settings for flow appointment-booking rejected: timeZone: unknown IANA time zone/);
    await expect(
      addRoute(db.pool, { number: '555-0101', flow: 'appointment-booking' }, findFlowPackage),
    ).rejects.toThrow(/number must be E\.164/);
    await addRoute(db.pool, { number: '+15550102', flow: 'appointment-booking' }, findFlowPackage);
    await expect(
      addRoute(db.pool, { number: '+15550102', flow: 'appointment-booking' }, findFlowPackage),
    ).rejects.toThrow(/exists already/);
  });

  it('refuses a Swedish survey route when the workers recognize speech locally (pocketsphinx hears US English)', async () => {
    const swedish = { number: '+46812345678', flow: 'feedback-survey', settings: { language: 'sv-SE' } };
    const actor = { type: 'cli' as const, id: 'operator-ana' };
    await expect(addRoute(db.pool, swedish, findFlowPackage, actor, { recognizer: 'local' })).rejects.toThrow(
      /feedback-survey speaks sv-SE here, which the local recognizer .* cannot hear: set PROVIDER=openai/,
    );
    const english = { ...swedish, number: '+46812345679', settings: { language: 'en-US' } };
    expect((await addRoute(db.pool, english, findFlowPackage, actor, { recognizer: 'local' })).flow).toBe(
      'feedback-survey',
    );
    expect((await addRoute(db.pool, swedish, findFlowPackage, actor, { recognizer: 'openai' })).number).toBe(
      '+46812345678',
    );
  });

  it('audits every added and removed route, in its organization, with the actor', async () => {
    const actor = { type: 'cli' as const, id: 'operator-ana' };
    const added = await addRoute(
      db.pool,
      { number: '+15550177', flow: 'callback-request' },
      findFlowPackage,
      actor,
    );
    const otherOrg = (
      await db.pool.query<{ id: string }>(
        "INSERT INTO organizations (name) VALUES ('Other Org') RETURNING id",
      )
    ).rows[0]!.id;
    expect(await removeRoute(db.pool, '+15550177', { organizationId: otherOrg, actor })).toBe(false);
    expect(await removeRoute(db.pool, added.id, { actor })).toBe(true);
    const trail = await db.pool.query(
      `SELECT organization_id, actor_type, actor_id, action, before->>'number' AS before_number,
              after->>'number' AS after_number
         FROM audit_logs WHERE entity_type = 'route' AND entity_id = $1 ORDER BY occurred_at, action`,
      [added.id],
    );
    expect(trail.rows).toEqual([
      {
        organization_id: added.organizationId,
        actor_type: 'cli',
        actor_id: 'operator-ana',
        action: 'created',
        before_number: null,
        after_number: '+15550177',
      },
      {
        organization_id: added.organizationId,
        actor_type: 'cli',
        actor_id: 'operator-ana',
        action: 'deleted',
        before_number: '+15550177',
        after_number: null,
      },
    ]);
  });
});
