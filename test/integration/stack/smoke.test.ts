import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SipClient } from 'livekit-server-sdk';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { withTimeout } from '../../../src/util/async.js';
import { joinRoom, leaveAllRooms, listeningRoom, roomService, speakInto } from '../../helpers/room-peer.js';
import { cfg, livekitHttpUrl } from '../../helpers/stack.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';

/**
 * Proves the local stack is the real thing: two WebRTC participants exchange audio through
 * livekit-server, the SIP bridge answers SIP and the server's SIP API works, and the
 * databases answer. `voice-agent stack up` must have run; nothing here skips.
 */

afterAll(leaveAllRooms);

describe('local stack smoke test', () => {
  it('relays a recorded caller utterance between two participants through livekit-server', async () => {
    const roomName = `smoke-${randomUUID().slice(0, 8)}`;
    const svc = roomService();
    await svc.createRoom({ name: roomName, emptyTimeout: 30 });

    // 2.5 s is plenty to judge.
    const listener = listeningRoom((samples) => samples >= 16000 * 2.5);
    await joinRoom(roomName, 'listener', { autoSubscribe: true, room: listener.room });
    const caller = await joinRoom(roomName, 'caller', { autoSubscribe: false });

    const wav = readPcm16Wav(join(import.meta.dirname, '../../fixtures/smoke/hello-16k.wav'));
    expect(wav.sampleRate).toBe(16000);
    await speakInto(caller, wav.samples);
    await withTimeout(listener.heardEnough, 20_000, 'audio at the listener');

    const all = listener.samples();
    expect(all.length).toBeGreaterThan(16000);
    // The fixture's speech sits around -20 dBFS; silence would be -inf or below -60.
    expect(rmsDbfs(all)).toBeGreaterThan(-40);
    await svc.deleteRoom(roomName);
  });

  it('livekit-sip answers SIP on its port and the server manages SIP trunks', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = createSocket('udp4');
      const callId = randomUUID();
      const msg = [
        `OPTIONS sip:probe@127.0.0.1:${cfg.SIP_PORT} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK${callId.slice(0, 8)};rport`,
        'Max-Forwards: 70',
        'From: <sip:smoke@127.0.0.1>;tag=smoke',
        `To: <sip:probe@127.0.0.1:${cfg.SIP_PORT}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      const timer = setTimeout(() => {
        sock.close();
        reject(new Error('livekit-sip did not answer SIP OPTIONS'));
      }, 5000);
      sock.on('message', (m) => {
        clearTimeout(timer);
        sock.close();
        resolve(m.toString());
      });
      sock.send(msg, cfg.SIP_PORT, '127.0.0.1');
    });
    expect(reply).toMatch(/^SIP\/2\.0 \d{3}/);

    const sip = new SipClient(livekitHttpUrl, cfg.LIVEKIT_API_KEY, cfg.LIVEKIT_API_SECRET);
    const name = `smoke-${randomUUID().slice(0, 8)}`;
    const trunk = await sip.createSipInboundTrunk(name, ['+15550001111']);
    try {
      const listed = await sip.listSipInboundTrunk();
      expect(listed.map((t) => t.name)).toContain(name);
    } finally {
      await sip.deleteSipTrunk(trunk.sipTrunkId);
    }
  });

  it('Postgres and Redis answer', async () => {
    const client = new pg.Client({ connectionString: cfg.DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await client.connect();
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    await client.end();
    expect(rows[0]?.one).toBe(1);

    const redis = new Redis(cfg.REDIS_URL, { maxRetriesPerRequest: 1 });
    expect(await redis.ping()).toBe('PONG');
    await redis.quit();
  });
});
