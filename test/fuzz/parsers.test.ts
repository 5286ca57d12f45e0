import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeWav, parseWav, WavFormatError } from '../../src/audio/wav.js';
import { DEV_PII_HASH_KEY } from '../../src/config/config.js';
import { readEntries } from '../../src/events/journal.js';
import { PiiKeyError, PiiKeyRing, parseKeyList } from '../../src/persistence/pii.js';
import { parseSimulationScript, ScriptError } from '../../src/simulate/script.js';
import { trustedMetadata } from '../../src/worker/dispatch-signature.js';
import { JobMetadataError, parseJobMetadata } from '../../src/worker/job-metadata.js';
import { callerIdentity, SIP_ATTR } from '../../src/worker/sip-identity.js';
import { fuzzParams, parsesOrRejects } from './settings.js';

/** Every parser that takes outside input: no crash, every rejection its own typed error with a message. */

const ring = new PiiKeyRing({
  keys: { k1: 'ab'.repeat(32) },
  activeKeyId: 'k1',
  hashKeyHex: DEV_PII_HASH_KEY,
});

/** Bytes that start like a WAV (RIFF header, fmt chunk with arbitrary fields) so the fuzzer gets past the magic. */
const wavLike = fc
  .record({
    tag: fc.constantFrom(1, 3, 6, 7, 0xfffe, 2, 85, fc.sample(fc.integer({ min: 0, max: 0xffff }), 1)[0]!),
    channels: fc.integer({ min: 0, max: 0xffff }),
    rate: fc.integer({ min: 0, max: 0xffffffff }),
    bits: fc.integer({ min: 0, max: 0xffff }),
    block: fc.integer({ min: 0, max: 0xffff }),
    fmtSize: fc.integer({ min: 0, max: 64 }),
    dataSize: fc.integer({ min: 0, max: 0xffffffff }),
    body: fc.uint8Array({ maxLength: 256 }),
  })
  .map((f) => {
    const head = Buffer.alloc(44);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(36 + f.body.length, 4);
    head.write('WAVEfmt ', 8, 'latin1');
    head.writeUInt32LE(f.fmtSize, 16);
    head.writeUInt16LE(f.tag, 20);
    head.writeUInt16LE(f.channels, 22);
    head.writeUInt32LE(f.rate, 24);
    head.writeUInt32LE((f.rate * f.block) % 2 ** 32, 28);
    head.writeUInt16LE(f.block, 32);
    head.writeUInt16LE(f.bits, 34);
    head.write('data', 36, 'latin1');
    head.writeUInt32LE(f.dataSize, 40);
    return new Uint8Array(Buffer.concat([head, f.body]));
  });

/** A valid WAV with some bytes flipped or cut off. */
const mutatedWav = fc
  .record({
    samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 64 }),
    cut: fc.nat(200),
    flips: fc.array(fc.tuple(fc.nat(120), fc.nat(255)), { maxLength: 6 }),
  })
  .map(({ samples, cut, flips }) => {
    const wav = Buffer.from(encodeWav(Int16Array.from(samples), 8000));
    for (const [at, v] of flips) if (at < wav.length) wav[at] = v;
    return new Uint8Array(wav.subarray(0, Math.max(0, wav.length - cut)));
  });

describe('fuzz: WAV', () => {
  it('parses or rejects random, header-shaped and mutated bytes with WavFormatError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 128 }), wavLike, mutatedWav),
        fc.boolean(),
        (bytes, allowTruncated) =>
          parsesOrRejects(() => parseWav(bytes, { allowTruncated }), [WavFormatError]),
      ),
      fuzzParams,
    );
  });
});

const small = fc.anything({ maxDepth: 2, maxKeys: 4 });

describe('fuzz: caller-script YAML', () => {
  const turn = fc.record(
    { say: fc.string(), wav: fc.string(), keys: fc.string(), wait_ms: fc.integer() },
    { requiredKeys: [] },
  );
  const scriptLike = fc.record(
    {
      flow: fc.string(),
      turns: fc.oneof(fc.array(turn, { maxLength: 4 }), small),
      expect: small,
      now: fc.string(),
      voice: fc.string(),
    },
    { requiredKeys: [] },
  );
  it('parses or rejects any text, any YAML value and script-shaped YAML with ScriptError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          small.map((v) => stringify(v)),
          scriptLike.map((v) => stringify(v)),
        ),
        (text) => parsesOrRejects(() => parseSimulationScript(text, 'fuzz.yaml'), [ScriptError]),
      ),
      fuzzParams,
    );
  });
});

describe('fuzz: job and dispatch metadata', () => {
  const metaLike = fc.record(
    {
      flow: fc.oneof(fc.string(), small),
      dial: fc.oneof(
        fc.record(
          { number: fc.string(), trunk_id: fc.string(), ring_timeout_s: fc.integer() },
          { requiredKeys: [] },
        ),
        small,
      ),
      now: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      auth: fc.oneof(
        fc.record({ v: fc.constantFrom(1, 2), iat: fc.integer(), room: fc.string(), sig: fc.string() }),
        small,
      ),
    },
    { requiredKeys: [] },
  );
  it('parses or rejects with JobMetadataError; verifying any parsed metadata never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          metaLike.map((m) => JSON.stringify(m)),
        ),
        fc.string(),
        (raw, room) => {
          let meta: ReturnType<typeof parseJobMetadata> | undefined;
          parsesOrRejects(() => {
            meta = parseJobMetadata(raw);
          }, [JobMetadataError]);
          if (meta) trustedMetadata(meta, { secret: 's'.repeat(32), room });
        },
      ),
      fuzzParams,
    );
  });
});

describe('fuzz: SIP participant attributes', () => {
  const attrKey = fc.oneof(fc.constantFrom(...Object.values(SIP_ATTR)), fc.string());
  it('never crashes and keeps every copied attribute bounded', () => {
    fc.assert(
      fc.property(
        fc.dictionary(attrKey, fc.oneof(fc.string({ maxLength: 300 }), small) as fc.Arbitrary<string>),
        fc.string(),
        fc.integer({ min: 0, max: 5 }),
        (attributes, identity, kind) => {
          const c = callerIdentity({ identity, kind, attributes });
          for (const v of [c.callerNumber, c.sipCallId, c.trunkNumber, c.trunkId]) {
            if (v !== undefined && (typeof v !== 'string' || v.length > 64))
              throw new Error(`unbounded attribute ${String(v)}`);
          }
        },
      ),
      fuzzParams,
    );
  });
});

describe('fuzz: journal lines and sealed values', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'va-fuzz-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const sealedGarbage = fc.oneof(
    fc.string().map((s) => `enc:${s}`),
    fc.string().map((s) => `enc2:k1:${s}`),
    fc.tuple(fc.string(), fc.string()).map(([id, s]) => `enc2:${id}:${s}`),
    fc.json().map((j) => ring.sealText(j)),
    fc.json().map((j) => ring.sealText(j).slice(0, -3)),
  );
  it('reads what it can, reports every other line as corrupt with an Error, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.json(), sealedGarbage), { maxLength: 8 }),
        async (lines) => {
          const path = join(dir, 'events-fuzz.jsonl');
          await writeFile(path, lines.map((l) => l.replace(/[\r\n]/g, ' ')).join('\n'));
          for await (const entry of readEntries(
            path,
            (_n, err) => {
              if (!(err instanceof Error) || !err.message)
                throw new Error('corrupt line reported without an error message');
            },
            ring,
          )) {
            if (typeof entry.jobId !== 'string' || !Array.isArray(entry.events))
              throw new Error('yielded a non-entry');
          }
        },
      ),
      { ...fuzzParams, numRuns: Math.min(fuzzParams.numRuns ?? 100, 100) },
    );
  });

  it('key ring: any bytes or text open or fail with PiiKeyError; any PII_KEYS parses or fails with PiiKeyError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), sealedGarbage, fc.string(), (bytes, text, keys) => {
        parsesOrRejects(() => ring.decrypt(Buffer.from(bytes)), [PiiKeyError]);
        parsesOrRejects(() => ring.openText(text), [PiiKeyError]);
        parsesOrRejects(() => parseKeyList(keys), [PiiKeyError]);
      }),
      fuzzParams,
    );
  });
});
