import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ORGANIZATION_ID } from '../../../src/events/model.js';
import { CLI } from '../../helpers/cli-process.js';
import {
  createTestDatabase,
  obliterateQueues,
  REDIS_URL,
  randomName,
  type TestDatabase,
} from '../persistence/helpers.js';

/** The built CLI's privacy commands leave their audit row in audit_logs (real Postgres). */

const run = promisify(execFile);

describe('voice-agent privacy (built CLI) audit trail', () => {
  let db: TestDatabase;
  let journalDir: string;
  const queue = randomName('privacy_cli_q');

  beforeAll(async () => {
    db = await createTestDatabase();
    journalDir = await mkdtemp(join(tmpdir(), 'va-privacy-cli-'));
  });

  afterAll(async () => {
    await db?.drop();
    await obliterateQueues(queue);
    await rm(journalDir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    run(process.execPath, [CLI, ...args], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL,
        EVENT_QUEUE: queue,
        EVENT_JOURNAL_DIR: journalDir,
        VOICE_AGENT_ACTOR: 'dpo-test',
      },
    });

  it('audits an erasure across the deployment, and one limited to an organization, without the number', async () => {
    const org = (
      await db.pool.query<{ id: string }>("INSERT INTO organizations (name) VALUES ('Clinic B') RETURNING id")
    ).rows[0]!.id;
    await cli(['privacy', 'erase', '--phone', '+15550107777']);
    await cli(['privacy', 'export', '--phone', '+15550107777', '--org', org]);
    const trail = await db.pool.query(
      `SELECT organization_id, actor_type, actor_id, action, entity_type, metadata->>'scope' AS scope,
              row_to_json(a)::text AS row
         FROM audit_logs a WHERE entity_type = 'person' ORDER BY occurred_at`,
    );
    expect(trail.rows.map(({ row: _row, ...rest }) => rest)).toEqual([
      {
        organization_id: DEFAULT_ORGANIZATION_ID,
        actor_type: 'cli',
        actor_id: 'dpo-test',
        action: 'erased',
        entity_type: 'person',
        scope: 'deployment',
      },
      {
        organization_id: org,
        actor_type: 'cli',
        actor_id: 'dpo-test',
        action: 'exported',
        entity_type: 'person',
        scope: 'organization',
      },
    ]);
    for (const { row } of trail.rows) expect(row).not.toMatch(/5550107777/);
  });
});
