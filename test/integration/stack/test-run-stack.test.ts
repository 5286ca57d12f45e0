import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../../src/config/config.js';
import { freeTcpPort, httpOk, sipHealthy, tcpPortFree, udpPortFree } from '../../../src/stack/probes.js';
import { LocalStack } from '../../../src/stack/stack.js';
import type { StackConfigFiles } from '../../../src/stack/stack-files.js';
import { bringUpStackForRun } from '../../global-setup.js';

/**
 * The test run's own stack start-up (test/global-setup.ts) against real livekit-server and
 * livekit-sip processes. They run as a second stack on other ports, another STACK_DIR and
 * another Redis database, so the shared stack on 7880/5060 is neither used nor disturbed.
 */

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'va-test-stack-'));
symlinkSync(realpathSync(join(root, '.local/bin')), join(dir, 'bin'));
// A stack that may be left running if an assertion fails half-way; stopped in afterAll.
let leftOver: LocalStack | undefined;

afterAll(async () => {
  await leftOver?.stopStarted(['livekit-server', 'livekit-sip']);
  rmSync(dir, { recursive: true, force: true });
});

async function freeSipPort(): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
}

interface SecondStack {
  files: StackConfigFiles;
  env: Record<string, string>;
  livekitUrl: string;
  sipHealthUrl: string;
}

/** livekit.yaml / livekit-sip.yaml copies moved to free ports and Redis database 9. */
async function secondStackFiles(): Promise<SecondStack> {
  const [http, tcp, health, prometheus, sip] = [
    await freeTcpPort(),
    await freeTcpPort(),
    await freeTcpPort(),
    await freeTcpPort(),
    await freeSipPort(),
  ];
  const lk = parse(readFileSync(join(root, 'livekit.yaml'), 'utf8'));
  lk.port = http;
  lk.rtc = { ...lk.rtc, tcp_port: tcp, port_range_start: 52000, port_range_end: 52049 };
  lk.redis = { ...lk.redis, db: 9 };
  const sipDoc = parse(readFileSync(join(root, 'livekit-sip.yaml'), 'utf8'));
  Object.assign(sipDoc, {
    ws_url: `ws://127.0.0.1:${http}`,
    redis: { ...sipDoc.redis, db: 9 },
    sip_port: sip,
    sip_port_listen: sip,
    rtp_port: '12000-12049',
    health_port: health,
    prometheus_port: prometheus,
  });
  const files = { livekit: join(dir, 'livekit.yaml'), sip: join(dir, 'livekit-sip.yaml') };
  writeFileSync(files.livekit, stringify(lk));
  writeFileSync(files.sip, stringify(sipDoc));
  return {
    files,
    env: { STACK_DIR: dir, LIVEKIT_URL: `ws://127.0.0.1:${http}`, SIP_PORT: String(sip) },
    livekitUrl: `http://127.0.0.1:${http}/`,
    sipHealthUrl: `http://127.0.0.1:${health}/`,
  };
}

function stackFor(second: SecondStack, lines: string[], env: Record<string, string> = {}): LocalStack {
  const cfg = loadConfig({ ...process.env, LOG_LEVEL: 'warn', ...second.env, ...env });
  return new LocalStack(cfg, root, (l) => lines.push(l), second.files);
}

describe('the test run brings up the local stack itself', () => {
  it('starts what is missing, reuses what runs, and stops only what it started', async () => {
    const second = await secondStackFiles();
    const lines: string[] = [];
    leftOver = stackFor(second, lines);
    const teardown = await bringUpStackForRun(leftOver, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/\[test stack\] started livekit-server and livekit-sip for this run/);
    expect(await httpOk(second.livekitUrl)).toBe(true);
    expect(await sipHealthy(second.sipHealthUrl)).toBe(true);

    // A second run while that one is up finds everything running and starts nothing …
    const again: string[] = [];
    const teardownAgain = await bringUpStackForRun(stackFor(second, again), (l) => again.push(l));
    expect(again).toEqual(['[test stack] using the running local stack']);
    await teardownAgain();
    // … so its end leaves the first run's servers alone.
    expect(await httpOk(second.livekitUrl)).toBe(true);
    expect(await sipHealthy(second.sipHealthUrl)).toBe(true);

    await teardown();
    expect(lines.join('\n')).toMatch(/stopped livekit-sip \(pid \d+\)[\s\S]*stopped livekit-server/);
    expect(await httpOk(second.livekitUrl)).toBe(false);
    expect(await tcpPortFree(Number(new URL(second.livekitUrl).port))).toBe(true);
    leftOver = undefined;
  }, 120_000);

  it('says which service is missing when Redis does not answer, and starts nothing', async () => {
    const second = await secondStackFiles();
    const lines: string[] = [];
    const deadRedis = `redis://127.0.0.1:${await freeTcpPort()}`;
    await expect(
      bringUpStackForRun(stackFor(second, lines, { REDIS_URL: deadRedis }), (l) => lines.push(l)),
    ).rejects.toThrow(
      /^\[test stack\] cannot bring up the local stack for the tests: Redis does not answer on 127\.0\.0\.1:\d+: run npm run setup$/,
    );
    expect(await httpOk(second.livekitUrl)).toBe(false);
    expect(lines).toEqual([]);
  });
});
