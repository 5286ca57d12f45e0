import {
  RoomAgentDispatch,
  RoomConfiguration,
  type SIPDispatchRuleInfo,
  type SIPInboundTrunkInfo,
  type SIPOutboundTrunkInfo,
  SipClient,
} from 'livekit-server-sdk';
import type { Config } from '../config/config.js';

/**
 * Idempotent SIP provisioning: one inbound trunk, one outbound trunk and one dispatch rule,
 * found by name (derived from AGENT_NAME) and created or brought up to date. Running it
 * twice changes nothing; changing the config and running it again updates in place.
 */

export interface SipNames {
  inbound: string;
  outbound: string;
  dispatch: string;
}

export function sipNames(cfg: Pick<Config, 'AGENT_NAME'>): SipNames {
  return {
    inbound: `${cfg.AGENT_NAME}-inbound`,
    outbound: `${cfg.AGENT_NAME}-outbound`,
    dispatch: `${cfg.AGENT_NAME}-dispatch`,
  };
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function sipClient(cfg: Config): SipClient {
  return new SipClient(cfg.LIVEKIT_URL.replace(/^ws/, 'http'), cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
}

export type Outcome = 'created' | 'updated' | 'unchanged';
export interface SetupResult {
  inbound: { id: string; outcome: Outcome };
  outbound: { id: string; outcome: Outcome };
  dispatch: { id: string; outcome: Outcome };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

export async function setupSip(cfg: Config, client = sipClient(cfg)): Promise<SetupResult> {
  const names = sipNames(cfg);
  const numbers = list(cfg.SIP_INBOUND_NUMBERS);
  const allowed = list(cfg.SIP_ALLOWED_ADDRESSES);
  if (numbers.length === 0) throw new Error('SIP_INBOUND_NUMBERS must list at least one number');

  // Inbound trunk
  const inboundOpts = {
    allowedAddresses: allowed,
    authUsername: cfg.SIP_AUTH_USERNAME ?? '',
    authPassword: cfg.SIP_AUTH_PASSWORD ?? '',
  };
  const existingIn = (await client.listSipInboundTrunk()).find((t) => t.name === names.inbound);
  let inbound: SetupResult['inbound'];
  if (!existingIn) {
    const t = await client.createSipInboundTrunk(names.inbound, numbers, inboundOpts);
    inbound = { id: t.sipTrunkId, outcome: 'created' };
  } else if (
    sameSet(existingIn.numbers, numbers) &&
    sameSet(existingIn.allowedAddresses, allowed) &&
    existingIn.authUsername === inboundOpts.authUsername &&
    existingIn.authPassword === inboundOpts.authPassword
  ) {
    inbound = { id: existingIn.sipTrunkId, outcome: 'unchanged' };
  } else {
    existingIn.numbers = numbers;
    existingIn.allowedAddresses = allowed;
    existingIn.authUsername = inboundOpts.authUsername;
    existingIn.authPassword = inboundOpts.authPassword;
    await client.updateSipInboundTrunk(existingIn.sipTrunkId, existingIn);
    inbound = { id: existingIn.sipTrunkId, outcome: 'updated' };
  }

  // Outbound trunk
  const existingOut = (await client.listSipOutboundTrunk()).find((t) => t.name === names.outbound);
  let outbound: SetupResult['outbound'];
  const outNumbers = [cfg.SIP_OUTBOUND_NUMBER];
  if (!existingOut) {
    const t = await client.createSipOutboundTrunk(names.outbound, cfg.SIP_OUTBOUND_ADDRESS, outNumbers, {
      transport: 0, // SIP_TRANSPORT_AUTO
      authUsername: cfg.SIP_OUTBOUND_USERNAME ?? '',
      authPassword: cfg.SIP_OUTBOUND_PASSWORD ?? '',
    });
    outbound = { id: t.sipTrunkId, outcome: 'created' };
  } else if (
    existingOut.address === cfg.SIP_OUTBOUND_ADDRESS &&
    sameSet(existingOut.numbers, outNumbers) &&
    existingOut.authUsername === (cfg.SIP_OUTBOUND_USERNAME ?? '') &&
    existingOut.authPassword === (cfg.SIP_OUTBOUND_PASSWORD ?? '')
  ) {
    outbound = { id: existingOut.sipTrunkId, outcome: 'unchanged' };
  } else {
    existingOut.address = cfg.SIP_OUTBOUND_ADDRESS;
    existingOut.numbers = outNumbers;
    existingOut.authUsername = cfg.SIP_OUTBOUND_USERNAME ?? '';
    existingOut.authPassword = cfg.SIP_OUTBOUND_PASSWORD ?? '';
    await client.updateSipOutboundTrunk(existingOut.sipTrunkId, existingOut);
    outbound = { id: existingOut.sipTrunkId, outcome: 'updated' };
  }

  // Dispatch rule: a new room per call, our agent dispatched explicitly by name. A "callee"
  // rule (room = prefix + the number dialled + random suffix), not an "individual" one: that
  // would put the caller's number into the room name, which is stored in clear (and logged),
  // while the number itself is personal data we only keep encrypted.
  const roomConfig = new RoomConfiguration({
    agents: [new RoomAgentDispatch({ agentName: cfg.AGENT_NAME })],
  });
  const existingRule = (await client.listSipDispatchRule()).find((r) => r.name === names.dispatch);
  let dispatch: SetupResult['dispatch'];
  const ruleMatches = (r: SIPDispatchRuleInfo) =>
    r.rule?.rule.case === 'dispatchRuleCallee' &&
    r.rule.rule.value.roomPrefix === cfg.SIP_ROOM_PREFIX &&
    r.rule.rule.value.randomize &&
    sameSet(r.trunkIds, [inbound.id]) &&
    r.roomConfig?.agents.length === 1 &&
    r.roomConfig.agents[0]?.agentName === cfg.AGENT_NAME;
  if (existingRule && ruleMatches(existingRule)) {
    dispatch = { id: existingRule.sipDispatchRuleId, outcome: 'unchanged' };
  } else {
    // Rules are small; replacing is simpler and safer than patching nested oneofs.
    if (existingRule) await client.deleteSipDispatchRule(existingRule.sipDispatchRuleId);
    const r = await client.createSipDispatchRule(
      { type: 'callee', roomPrefix: cfg.SIP_ROOM_PREFIX, randomize: true },
      { name: names.dispatch, trunkIds: [inbound.id], roomConfig },
    );
    dispatch = { id: r.sipDispatchRuleId, outcome: existingRule ? 'updated' : 'created' };
  }
  return { inbound, outbound, dispatch };
}

export interface SipStatus {
  inbound: SIPInboundTrunkInfo[];
  outbound: SIPOutboundTrunkInfo[];
  dispatch: SIPDispatchRuleInfo[];
}

export async function sipStatus(cfg: Config, client = sipClient(cfg)): Promise<SipStatus> {
  const [inbound, outbound, dispatch] = await Promise.all([
    client.listSipInboundTrunk(),
    client.listSipOutboundTrunk(),
    client.listSipDispatchRule(),
  ]);
  return { inbound, outbound, dispatch };
}

/**
 * A trunk as `sip status` may show it: every secret field dropped, replaced by whether it is
 * set. LiveKit returns digest passwords in its listings; they must not reach a terminal or a log.
 */
export function redactTrunk(trunk: { toJson(): unknown }): Record<string, unknown> {
  const json = { ...(trunk.toJson() as Record<string, unknown>) };
  for (const key of Object.keys(json)) {
    if (/password|secret|token/i.test(key)) {
      json[`${key}Set`] = Boolean(json[key]);
      delete json[key];
    }
  }
  return json;
}
