import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { redactTrunk, setupSip, sipNames, sipStatus } from '../telephony/provisioning.js';

export function registerSip(program: Command): void {
  const sip = program.command('sip').description('SIP trunks and dispatch rules on the LiveKit server');

  sip
    .command('setup')
    .description('create or update the inbound trunk, outbound trunk and dispatch rule (idempotent)')
    .action(async () => {
      const cfg = loadConfig();
      const r = await setupSip(cfg);
      const names = sipNames(cfg);
      console.log(`inbound trunk  ${names.inbound.padEnd(28)} ${r.inbound.id}  ${r.inbound.outcome}`);
      console.log(`outbound trunk ${names.outbound.padEnd(28)} ${r.outbound.id}  ${r.outbound.outcome}`);
      console.log(`dispatch rule  ${names.dispatch.padEnd(28)} ${r.dispatch.id}  ${r.dispatch.outcome}`);
    });

  sip
    .command('status')
    .description('list SIP trunks and dispatch rules')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await sipStatus(loadConfig());
      if (opts.json) {
        console.log(
          JSON.stringify({
            inbound: s.inbound.map(redactTrunk),
            outbound: s.outbound.map(redactTrunk),
            dispatch: s.dispatch.map((r) => r.toJson()),
          }),
        );
        return;
      }
      for (const t of s.inbound)
        console.log(
          `inbound  ${t.sipTrunkId}  ${t.name}  numbers=${t.numbers.join(',')}  allowed=${t.allowedAddresses.join(',') || 'any'}  auth=${t.authUsername ? 'yes' : 'no'}`,
        );
      for (const t of s.outbound)
        console.log(
          `outbound ${t.sipTrunkId}  ${t.name}  address=${t.address}  numbers=${t.numbers.join(',')}`,
        );
      for (const r of s.dispatch) {
        const rule = r.rule?.rule;
        const kind = rule?.case ?? 'unknown';
        const value = rule?.value;
        const prefix = value && 'roomPrefix' in value ? ` prefix=${value.roomPrefix}` : '';
        const agents = r.roomConfig?.agents.map((a) => a.agentName).join(',') ?? '';
        console.log(
          `dispatch ${r.sipDispatchRuleId}  ${r.name}  ${kind}${prefix}  trunks=${r.trunkIds.join(',')}  agents=${agents}`,
        );
      }
      if (s.inbound.length + s.dispatch.length === 0)
        console.log('nothing provisioned: run voice-agent sip setup');
    });
}
