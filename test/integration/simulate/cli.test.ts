import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { flowNames } from '../../../agents/index.js';
import { resample } from '../../../src/audio/resample.js';
import { readWav as readAnyWav, writeWav } from '../../../src/audio/wav.js';
import { resolveCallSettings } from '../../../src/simulate/run.js';
import {
  decodeCallerAudio,
  loadSimulationScript,
  needsRealTime,
  ScriptError,
  toCallerScript,
} from '../../../src/simulate/script.js';
import { readPcm16Wav, rmsDbfs } from '../../helpers/wav.js';

/**
 * `voice-agent simulate` as a user runs it: the built CLI in a child process, local providers
 * (pocketsphinx + flite + silero), no server. Stdout must hold exactly one JSON object with
 * --json; bad input must fail with one line on stderr before any call runs.
 */

const exec = promisify(execFile);
const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'dist/src/cli/main.js');
const calls = join(root, 'agents/appointment-booking/calls');
const dir = mkdtempSync(join(tmpdir(), 'simulate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Local providers whatever the developer's shell has set; LOG_LEVEL as a user would leave it.
const env = { ...process.env, PROVIDER: 'local', OPENAI_API_KEY: '', LOG_LEVEL: '' };

async function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec('node', [cli, 'simulate', ...args], { env, cwd: root, maxBuffer: 16 << 20 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

function script(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

/** Writes a WAV with a raw header, so the test does not trust the encoder under test. */
function rawWav(path: string, channels: number, bits: number, rate: number, frames: number, tag = 1): void {
  const bytes = bits / 8;
  const data = Buffer.alloc(frames * channels * bytes);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(tag, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * bytes, 28);
  h.writeUInt16LE(channels * bytes, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

const REPORT_KEYS = ['errors', 'final_state', 'flow', 'latency', 'records', 'slots', 'transitions', 'turns'];
const STAGES = ['eou_ms', 'llm_ttft_ms', 'stt_ms', 'tts_ttfb_ms', 'v2v_ms'];
const numberOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));

describe('voice-agent simulate (CLI)', () => {
  it('--fast --json: one call, exactly one JSON object on stdout, the outcome the script expects', async () => {
    const caller = join(calls, 'happy-path.yaml');
    const { script: expected } = await loadSimulationScript(caller);
    const record = join(dir, 'agent.wav');
    const { code, stdout, stderr } = await simulate([
      '--caller',
      caller,
      '--fast',
      '--json',
      '--record',
      record,
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n').filter((l) => l.trim());
    expect(lines, stdout).toHaveLength(1);
    const report = JSON.parse(lines[0]!);

    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect(report.flow).toBe('appointment-booking');
    expect(report.final_state).toBe(expected.expect!.final_state);
    for (const [k, v] of Object.entries(expected.expect!.slots)) expect(report.slots[k], k).toEqual(v);
    const appointment = report.records.find((r: { type: string }) => r.type === 'appointment');
    expect(appointment.data).toMatchObject({
      appointment_date: '2025-03-11',
      appointment_time: '15:30',
      status: 'confirmed',
      metadata: { action: 'booked' },
    });
    expect(appointment.data.confirmation_code).toMatch(/^[A-Z0-9]{6}$/);

    // turns: the agent greets, then caller and agent alternate; every turn carries its state
    expect(report.turns[0]).toMatchObject({ role: 'agent', state: 'greeting' });
    for (const t of report.turns) {
      expect(Object.keys(t).sort()).toEqual(['role', 'state', 'text']);
      expect(t.text.length).toBeGreaterThan(0);
    }
    const userTurns = report.turns.filter((t: { role: string }) => t.role === 'user');
    expect(userTurns).toHaveLength(expected.turns.length);
    expect(userTurns[1].text).toBe('my name is john smith'); // heard by pocketsphinx, not copied
    expect(report.turns.at(-1)).toMatchObject({ role: 'agent', state: 'goodbye' });

    expect(report.transitions[0]).toEqual({ from: null, to: 'greeting', trigger: expect.any(String) });
    for (const t of report.transitions) expect(Object.keys(t).sort()).toEqual(['from', 'to', 'trigger']);
    expect(report.transitions.at(-1).to).toBe('goodbye');

    expect(report.latency.turns).toHaveLength(expected.turns.length);
    for (const t of report.latency.turns) {
      expect(Object.keys(t).sort()).toEqual(STAGES);
      for (const s of STAGES) expect(numberOrNull(t[s]), s).toBe(true);
      expect(t.v2v_ms).toBeGreaterThan(0);
    }
    expect(report.latency.p95_v2v_ms).toBeGreaterThanOrEqual(report.latency.p50_v2v_ms);
    expect(report.errors).toEqual([]);

    // --record: what the caller heard, flite speech at the TTS rate
    const wav = readPcm16Wav(record);
    expect(wav.sampleRate).toBe(16000);
    expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(20);
    expect(rmsDbfs(wav.samples)).toBeGreaterThan(-35);
    // nothing but the JSON on stdout, and no caller data in the logs
    expect(stderr).not.toMatch(/john smith|4155552671/i);
  }, 90_000);

  it('plays recorded caller audio from a WAV file (stereo 22.05 kHz, resampled and downmixed)', async () => {
    const mono = join(dir, 'book-mono.wav');
    execFileSync('flite', ['-voice', 'slt', '-t', 'i would like to book an appointment', '-o', mono]);
    const src = readAnyWav(mono);
    const at22k = resample(src.samples, src.sampleRate, 22050);
    const stereo = new Int16Array(at22k.length * 2);
    for (let i = 0; i < at22k.length; i++) stereo[2 * i] = stereo[2 * i + 1] = at22k[i]!;
    writeWav(join(dir, 'book.wav'), stereo, 22050, { channels: 2 });
    const caller = script(
      'audio.yaml',
      'now: "2025-03-05T15:00:00Z"\nturns:\n  - audio: book.wav\n  - dtmf: "0"\n',
    );
    const { code, stdout, stderr } = await simulate(['--caller', caller, '--fast', '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    const turns = report.turns.map((t: { role: string; text: string }) => `${t.role}: ${t.text}`);
    // pocketsphinx's wording of the recorded words varies with load ("book an of five" once);
    // the agent asking for the name proves the booking request was understood.
    expect(turns[1]).toMatch(/^user: i would like to book/);
    expect(turns.slice(2, 4)).toEqual(['agent: May I have your full name, please?', 'user: [DTMF 0]']);
    expect(report.slots).toEqual({ intent: 'book' });
    expect(report.final_state).toBe('handoff');
    expect(report.records).toEqual([]);
  }, 60_000);

  // One spawn per kind of failure the brief names; the rest of the messages are checked
  // in-process below (each spawn costs ~3 s of module loading on this machine).
  const bad: [string, () => string, RegExp][] = [
    [
      'a script with an invalid field',
      () => script('bad-field.yaml', 'turns:\n  - say: "hello"\n  - silence_ms: -5\n'),
      /bad-field\.yaml: turns\[1\]\.silence_ms: Too small/,
    ],
    [
      'a missing audio file',
      () => script('missing-audio.yaml', 'turns:\n  - audio: gone.wav\n'),
      /missing-audio\.yaml: turns\[0\]\.audio \(gone\.wav\): cannot read audio file .*gone\.wav: no such file/,
    ],
    [
      'audio that is not a WAV file',
      () => {
        writeFileSync(join(dir, 'text.wav'), 'this is text, not audio\n');
        return script('not-wav.yaml', 'turns:\n  - audio: text.wav\n');
      },
      /not-wav\.yaml: turns\[0\]\.audio \(text\.wav\): not a WAV file/,
    ],
  ];

  it.each(bad)('rejects %s: exit 1, one line on stderr, nothing on stdout', async (_what, make, message) => {
    const { code, stdout, stderr } = await simulate(['--caller', make(), '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^voice-agent: /);
    expect(lines[0]).toMatch(message);
  });
});

describe('caller script validation', () => {
  const load = async (name: string, yaml: string) =>
    toCallerScript(await loadSimulationScript(script(name, yaml)));
  const cfg = { FLOW: 'appointment-booking' };

  it('names the bad field, file and reason', async () => {
    const cases: [string, RegExp][] = [
      [
        'turns:\n  - shout: "hello"\n',
        /x\.yaml: turns\[0\]: a turn needs exactly one of say, silence_ms, dtmf, audio .*found keys: shout$/,
      ],
      [
        'turns:\n  - say: hi\n    dtmf: "1"\n',
        /turns\[0\]: a turn needs exactly one of .*found keys: say, dtmf$/,
      ],
      ['turns:\n  - dtmf: "12a"\n', /turns\[0\]\.dtmf: /],
      ['turns:\n  - say: hi\n    barge_in_after_ms: -1\n', /turns\[0\]\.barge_in_after_ms: Too small/],
      [
        'flow: nope\nturns:\n  - say: hi\n',
        new RegExp(`x\\.yaml: flow: must be one of: ${flowNames.join(', ')}$`),
      ],
      ['now: tomorrow\nturns:\n  - say: hi\n', /x\.yaml: now: /],
      ['turns: []\n', /x\.yaml: turns: Too small/],
      ['turns:\n  - say: hi\nexpect: { final_state: goodbye }\n', /x\.yaml: expect\.appointment: /],
      ['turns:\n  - say: hi\ncolour: blue\n', /x\.yaml: \(root\): Unrecognized key: "colour"/],
      ['turns: [\n', /x\.yaml: not valid YAML: /],
      ['- say: hi\n', /x\.yaml: expected a mapping with at least "turns:"/],
    ];
    for (const [yaml, message] of cases) {
      const err = await load('x.yaml', yaml).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, yaml).toBeInstanceOf(ScriptError);
      expect((err as Error).message, yaml).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    }
    await expect(loadSimulationScript(join(dir, 'absent.yaml'))).rejects.toThrow(
      /cannot read caller script .*absent\.yaml: no such file/,
    );
  });

  it('refuses unusable audio before the call, and accepts the fixtures', async () => {
    rawWav(join(dir, 'st8.wav'), 2, 8, 8000, 8000);
    await expect(load('stereo8.yaml', 'turns:\n  - audio: st8.wav\n')).rejects.toThrow(
      /stereo8\.yaml: turns\[0\]\.audio \(st8\.wav\): unusable audio format \(2-channel pcm8 at 8000 Hz\); caller audio must be 16-bit PCM WAV/,
    );
    for (const f of ['happy-path', 'keypad', 'silence-timeouts', 'barge-in-readback', 'cancel']) {
      const loaded = await loadSimulationScript(join(calls, `${f}.yaml`));
      expect(loaded.script.expect?.final_state, f).toBeTruthy();
      expect((await toCallerScript(loaded)).turns).toHaveLength(loaded.script.turns.length);
      expect(needsRealTime(loaded.script), f).toBe(f === 'barge-in-readback');
    }
  });

  it('checks --flow and --now against the script and configuration', async () => {
    const loaded = await loadSimulationScript(join(calls, 'happy-path.yaml'));
    expect(resolveCallSettings(loaded, {}, cfg)).toEqual({
      flow: 'appointment-booking',
      now: '2025-03-05T15:00:00Z',
    });
    expect(resolveCallSettings(loaded, { now: '2026-01-01T09:00:00+01:00' }, cfg).now).toBe(
      '2026-01-01T09:00:00+01:00',
    );
    expect(() => resolveCallSettings(loaded, { now: 'next week' }, cfg)).toThrow(
      '--now: "next week" is not an ISO 8601 date-time with an offset (e.g. 2025-03-05T15:00:00Z)',
    );
    expect(() => resolveCallSettings(loaded, { flow: 'pizza' }, cfg)).toThrow(
      `--flow: unknown flow "pizza" (known: ${flowNames.join(', ')})`,
    );
    const bare = await loadSimulationScript(script('bare.yaml', 'turns:\n  - say: hi\n'));
    expect(resolveCallSettings(bare, {}, cfg)).toEqual({ flow: 'appointment-booking', now: undefined });
    expect(() => resolveCallSettings(bare, {}, { FLOW: 'pizza' })).toThrow('FLOW: unknown flow "pizza"');
  });
});

describe('caller audio decoding', () => {
  it('resamples mono and stereo 16-bit PCM of any rate to 16 kHz mono', () => {
    for (const [channels, rate] of [
      [1, 8000],
      [2, 44100],
      [1, 16000],
      [2, 48000],
    ] as const) {
      // one second of a 440 Hz tone, peak 8000 (RMS ≈ -15.3 dBFS), on every channel
      const samples = new Int16Array(rate * channels);
      for (let i = 0; i < rate; i++)
        for (let c = 0; c < channels; c++)
          samples[i * channels + c] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
      writeWav(join(dir, 'tone.wav'), samples, rate, { channels });
      const pcm = decodeCallerAudio(readFileSync(join(dir, 'tone.wav')), 'tone.wav');
      expect(pcm.sampleRate).toBe(16000);
      expect(Math.abs(pcm.samples.length - 16000)).toBeLessThanOrEqual(1);
      expect(rmsDbfs(pcm.samples.subarray(800, 15200))).toBeCloseTo(-15.3, 0);
    }
  });

  it('refuses other encodings, saying what it found', () => {
    const cases: [number, number, number, RegExp][] = [
      [1, 32, 3, /1-channel float32 at 16000 Hz/],
      [1, 8, 7, /1-channel mulaw at 16000 Hz/],
      [3, 16, 1, /3-channel pcm16 at 16000 Hz/],
      [1, 24, 1, /1-channel pcm24 at 16000 Hz/],
    ];
    for (const [channels, bits, tag, found] of cases) {
      rawWav(join(dir, 'odd.wav'), channels, bits, 16000, 1600, tag);
      const bytes = readFileSync(join(dir, 'odd.wav'));
      expect(() => decodeCallerAudio(bytes, 'odd.wav')).toThrow(ScriptError);
      expect(() => decodeCallerAudio(bytes, 'odd.wav')).toThrow(found);
    }
    expect(() => decodeCallerAudio(Buffer.from('RIFF'), 'short.wav')).toThrow(/short\.wav: not a WAV file/);
  });
});
