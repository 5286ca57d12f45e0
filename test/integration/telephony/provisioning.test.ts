import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { setupSip, sipClient, sipStatus } from '../../../src/telephony/provisioning.js';
import { CLI } from '../../helpers/cli-process.js';

// A separate agent name keeps this test's trunks apart from the ones the e2e tests use.
const agentName = `prov-test-${process.pid}`;
const base = {
  AGENT_NAME: agentName,
  SIP_INBOUND_NUMBERS: '+15550199',
  SIP_OUTBOUND_ADDRESS: '127.0.0.1:5999',
};

async function runCli(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
  });
  return stdout;
}

/**
 * Removes this test's trunks and rules, and those an earlier run left when it was killed before
 * its own cleanup (LiveKit keeps them in Redis, and their number would conflict with ours).
 */
async function cleanup() {
  const cfg = loadConfig(base);
  const c = sipClient(cfg);
  const s = await sipStatus(cfg, c);
  const ours = (name: string) => name.startsWith('prov-test-');
  for (const r of s.dispatch.filter((r) => ours(r.name))) await c.deleteSipDispatchRule(r.sipDispatchRuleId);
  for (const t of [...s.inbound, ...s.outbound].filter((t) => ours(t.name)))
    await c.deleteSipTrunk(t.sipTrunkId);
}

describe('voice-agent sip setup (real LiveKit server)', () => {
  it('creates trunks and a dispatch rule once, then changes nothing, then updates in place', async () => {
    await cleanup();
    try {
      const first = await setupSip(loadConfig(base));
      expect([first.inbound.outcome, first.outbound.outcome, first.dispatch.outcome]).toEqual([
        'created',
        'created',
        'created',
      ]);

      const again = await setupSip(loadConfig(base));
      expect([again.inbound.outcome, again.outbound.outcome, again.dispatch.outcome]).toEqual([
        'unchanged',
        'unchanged',
        'unchanged',
      ]);
      expect(again.inbound.id).toBe(first.inbound.id);

      const changed = await setupSip(
        loadConfig({ ...base, SIP_INBOUND_NUMBERS: '+15550199,+15550198', SIP_ROOM_PREFIX: 'tel-' }),
      );
      expect(changed.inbound).toEqual({ id: first.inbound.id, outcome: 'updated' });
      expect(changed.dispatch.outcome).toBe('updated');

      const status = await sipStatus(loadConfig(base));
      const trunk = status.inbound.find((t) => t.sipTrunkId === first.inbound.id);
      expect(trunk?.numbers.sort()).toEqual(['+15550198', '+15550199']);
      const rule = status.dispatch.find((r) => r.name === `${agentName}-dispatch`);
      expect(rule?.roomConfig?.agents[0]?.agentName).toBe(agentName);
      // One room per call named after the number dialled, never the caller's (PII).
      expect(rule?.rule?.rule.case).toBe('dispatchRuleCallee');
      expect(status.dispatch.filter((r) => r.name === `${agentName}-dispatch`)).toHaveLength(1);

      // A changed digest password is noticed and pushed; status never shows it.
      const withAuth = { ...base, SIP_AUTH_USERNAME: 'carrier', SIP_AUTH_PASSWORD: 'first-secret-pw' };
      expect((await setupSip(loadConfig(withAuth))).inbound.outcome).toBe('updated');
      expect((await setupSip(loadConfig(withAuth))).inbound.outcome).toBe('unchanged');
      const rotated = {
        ...withAuth,
        SIP_AUTH_PASSWORD: 'second-secret-pw',
        SIP_OUTBOUND_PASSWORD: 'out-secret-pw',
      };
      const r = await setupSip(loadConfig(rotated));
      expect([r.inbound.outcome, r.outbound.outcome]).toEqual(['updated', 'updated']);
      const json = await runCli(['sip', 'status', '--json'], { ...rotated, AGENT_NAME: agentName });
      const text = json + (await runCli(['sip', 'status'], { ...rotated, AGENT_NAME: agentName }));
      expect(text).toContain(first.inbound.id);
      expect(text).not.toMatch(/second-secret-pw|out-secret-pw|first-secret-pw/);
      const parsed = JSON.parse(json) as { inbound: Array<Record<string, unknown>> };
      expect(parsed.inbound.find((t) => t.sipTrunkId === first.inbound.id)?.authPasswordSet).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
