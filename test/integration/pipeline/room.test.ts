import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryEventSink } from '../../../src/events/index.js';
import { startPipelineCall } from '../../../src/pipeline/call.js';
import { FakeConversation } from '../../../src/pipeline/fake-conversation.js';
import { ensureAgentsLogger } from '../../../src/pipeline/logging.js';
import { loadSileroVad } from '../../../src/pipeline/vad.js';
import { FakeSTT, FakeTTS } from '../../../src/providers/fake/index.js';
import { sleep } from '../../../src/util/async.js';
import { joinRoom, leaveAllRooms, listeningRoom, roomService, speakInto } from '../../helpers/room-peer.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';

/**
 * The same pipeline in a real LiveKit room (the worker's mode): a caller participant speaks
 * the smoke fixture into livekit-server, the agent side runs startPipelineCall on its own
 * Room connection (RoomIO in, published track out), the caller hears the reply.
 * Needs the local stack (`voice-agent stack up`); nothing here skips.
 */

afterAll(leaveAllRooms);

describe('pipeline in a LiveKit room', () => {
  it('hears the caller through RoomIO and answers on a published track', async () => {
    ensureAgentsLogger('warn');
    const roomName = `pipeline-${randomUUID().slice(0, 8)}`;
    const svc = roomService();
    await svc.createRoom({ name: roomName, emptyTimeout: 30 });
    // the caller listens to whatever the agent publishes
    const caller = listeningRoom();
    await joinRoom(roomName, 'caller', { autoSubscribe: true, room: caller.room });
    const agentRoom = await joinRoom(roomName, 'agent', { autoSubscribe: true });

    const port = new FakeConversation({ slots: ['name', 'date'] });
    const sink = new MemoryEventSink();
    const transcript = 'Hello, I would like to book an appointment for next Tuesday.';
    const call = await startPipelineCall({
      callId: randomUUID(),
      port,
      stt: new FakeSTT({ transcripts: [transcript] }),
      tts: new FakeTTS({ msPerChar: 30 }),
      vad: await loadSileroVad(),
      sink,
      room: agentRoom,
      session: { aecWarmupMs: null },
    });

    // the caller: 1.5 s of silence (greeting), the utterance, then silence; paced by AudioSource
    const wav = readPcm16Wav(join(import.meta.dirname, '../../fixtures/smoke/hello-16k.wav'));
    const samples = new Int16Array(16000 * 1.5 + wav.samples.length + 16000 * 3);
    samples.set(wav.samples, 16000 * 1.5);
    await speakInto(caller.room, samples);
    const deadline = Date.now() + 10_000;
    while (call.controller.exchanges.length < 2 && Date.now() < deadline) await sleep(100);
    await sleep(2500); // let the reply play to the caller
    const summary = await call.end();

    expect(port.received[0]).toMatchObject({ kind: 'text', value: transcript });
    expect(port.state).toBe('ask_date');
    expect(call.errors).toEqual([]);
    expect(summary.turns).toBe(1);
    const turn = call.meter.turns[0]!;
    expect(turn.v2v_ms).toBeGreaterThan(100);
    expect(turn.v2v_ms).toBeLessThan(3000);
    expect(sink.ofType('turn').map((e) => e.payload.role)).toEqual(['agent', 'user', 'agent']);

    const all = caller.samples();
    expect(rmsDbfs(all)).toBeGreaterThan(-40); // greeting + reply tones reached the caller
    await svc.deleteRoom(roomName);
  }, 60_000);
});
