import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { downmixToMono } from '../../audio/pcm.js';
import { resample } from '../../audio/resample.js';
import { parseWav } from '../../audio/wav.js';
import { LocalSpeechUnavailableError } from './dictionary.js';

/**
 * Offline speech synthesis by running flite or espeak-ng once per sentence.
 * flite voices: slt (female, US), awb (male, Scottish), rms (male, US), kal16 (male, US) at
 * 16 kHz; kal at 8 kHz. espeak-ng voices: any `espeak-ng --voices` name, with variants
 * ("en-us", "en-us+f3"), at 22.05 kHz. flite sounds far more natural; espeak-ng is for variety.
 */

export type VoiceSpec = { engine: 'flite'; voice: string } | { engine: 'espeak-ng'; voice: string };

const FLITE_VOICES: Record<string, number> = {
  slt: 16000,
  awb: 16000,
  rms: 16000,
  kal16: 16000,
  kal: 8000,
  awb_time: 16000,
};
const ESPEAK_RATE = 22050;

/**
 * Parses a voice name: "slt", "flite:awb", "espeak-ng:en-us+f3" (also "espeak:…").
 * A bare name is a flite voice if flite has it, otherwise an espeak-ng voice.
 */
export function parseVoice(spec: string): VoiceSpec {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon > 0) {
    const engine = s.slice(0, colon);
    const voice = s.slice(colon + 1);
    if (!voice) throw new Error(`voice "${spec}": missing voice name after "${engine}:"`);
    if (engine === 'flite') {
      if (!(voice in FLITE_VOICES)) {
        throw new Error(
          `unknown flite voice "${voice}" (built-in voices: ${Object.keys(FLITE_VOICES).join(', ')})`,
        );
      }
      return { engine: 'flite', voice };
    }
    if (engine === 'espeak-ng' || engine === 'espeak') return { engine: 'espeak-ng', voice };
    throw new Error(`voice "${spec}": unknown engine "${engine}" (use flite: or espeak-ng:)`);
  }
  if (!s) throw new Error('empty voice name');
  return s in FLITE_VOICES ? { engine: 'flite', voice: s } : { engine: 'espeak-ng', voice: s };
}

/**
 * The offline voice for a call in `language` (BCP-47): the configured voice for English, else
 * espeak-ng's voice for the language ("sv-SE" → "espeak-ng:sv"); flite speaks only English.
 */
export function voiceForLanguage(language: string, configured: string): string {
  const primary = language.split('-')[0]!.toLowerCase();
  return primary === 'en' ? configured : `espeak-ng:${primary}`;
}

export function voiceSampleRate(voice: VoiceSpec): number {
  return voice.engine === 'flite' ? (FLITE_VOICES[voice.voice] ?? 16000) : ESPEAK_RATE;
}

export function voiceBinary(voice: VoiceSpec): string {
  return voice.engine === 'flite' ? 'flite' : 'espeak-ng';
}

/** Full path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function assertVoiceAvailable(voice: VoiceSpec): void {
  const bin = voiceBinary(voice);
  if (!findExecutable(bin))
    throw new LocalSpeechUnavailableError(`${bin} is not installed (not found on PATH)`);
}

export interface SynthesisOptions {
  /** espeak-ng speaking rate in words per minute (default 165). */
  wordsPerMinute?: number;
  signal?: AbortSignal;
}

let tempDir: string | undefined;
let tempCounter = 0;

/** A fresh path in this process's private temp directory. */
function tempWavPath(): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'voice-agent-tts-'));
  return join(tempDir, `${process.pid}-${++tempCounter}.wav`);
}

/**
 * Synthesizes one piece of text; resolves with mono 16-bit PCM at voiceSampleRate(voice).
 * Text goes to espeak-ng on stdin and to flite as one argv element, never through a shell.
 * flite writes to a temp file: it cannot open /dev/stdout when stdout is a socket (as Node's
 * child-process pipes are), and it exits 0 even then.
 */
export async function synthesizeText(
  text: string,
  voice: VoiceSpec,
  options: SynthesisOptions = {},
): Promise<Int16Array> {
  const bin = voiceBinary(voice);
  const out = voice.engine === 'flite' ? tempWavPath() : undefined;
  const args = out
    ? ['-voice', voice.voice, '-t', text, '-o', out]
    : ['--stdout', '-v', voice.voice, '-s', String(options.wordsPerMinute ?? 165)];
  try {
    const { stdout, stderr } = await run(bin, args, voice.engine === 'espeak-ng' ? text : '', options.signal);
    const bytes = out ? await readFile(out).catch(() => Buffer.alloc(0)) : stdout;
    if (bytes.length === 0) {
      throw new Error(`${bin} produced no audio${stderr ? `: ${stderr}` : ''}`);
    }
    const wav = parseWav(bytes, { allowTruncated: true }, `${bin} output`);
    const mono = downmixToMono(wav.samples, wav.channels);
    const rate = voiceSampleRate(voice);
    return wav.sampleRate === rate ? mono : resample(mono, wav.sampleRate, rate);
  } finally {
    if (out) await unlink(out).catch(() => {});
  }
}

function run(
  bin: string,
  args: string[],
  input: string,
  signal?: AbortSignal,
): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(new LocalSpeechUnavailableError(`${bin} is not installed (not found on PATH)`));
      else reject(e);
    });
    child.on('close', (code, sig) => {
      const stderr = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
      if (code !== 0)
        reject(new Error(`${bin} failed (${sig ?? `exit ${code}`})${stderr ? `: ${stderr}` : ''}`));
      else resolve({ stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {}); // EPIPE if the process died early: reported by 'close'
    child.stdin.end(input);
  });
}

const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'jr',
  'sr',
  'vs',
  'etc',
  'prof',
  'mt',
  'no',
  'approx',
]);

/** Index just past each sentence end in `text` (a terminator followed by whitespace). */
function sentenceEnds(text: string): number[] {
  const ends: number[] = [];
  const re = /([.!?…]+["')\]]*)(\s+)|(\n\s*\n)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[3]) {
      ends.push(m.index + m[0].length);
      continue;
    }
    const before = text.slice(0, m.index);
    const word = /([A-Za-z]+)$/.exec(before)?.[1] ?? '';
    const term = m[1] ?? '';
    // "Dr. Smith", "a.m. tomorrow", "No. 5": not an end. Single letters ("a.m.", "J. Smith") neither,
    // unless followed by a capital after "m." of a.m./p.m. — ambiguous, keep together.
    if (term.startsWith('.') && (ABBREVIATIONS.has(word.toLowerCase()) || word.length === 1)) continue;
    ends.push(m.index + (m[1]?.length ?? 0) + (m[2]?.length ?? 0));
  }
  return ends;
}

/**
 * Splits text into sentences for incremental synthesis. Very long sentences are further split
 * at commas/semicolons so the first audio is never more than ~`maxChars` of synthesis away.
 */
export function splitSentences(text: string, maxChars = 160): string[] {
  const out: string[] = [];
  let start = 0;
  for (const end of [...sentenceEnds(text), text.length]) {
    const s = text.slice(start, end).trim();
    start = end;
    if (!s) continue;
    out.push(...splitLong(s, maxChars));
  }
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s));
}

function splitLong(s: string, maxChars: number): string[] {
  if (s.length <= maxChars) return [s];
  const parts: string[] = [];
  let rest = s;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    const at =
      cut > maxChars / 3 ? cut + 1 : window.lastIndexOf(' ') > 0 ? window.lastIndexOf(' ') : maxChars;
    parts.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) parts.push(rest);
  return parts;
}

/**
 * Incremental sentence splitter for streamed text (LLM tokens): push() returns the sentences
 * completed so far, flush() the remainder.
 */
export class SentenceBuffer {
  private buf = '';

  constructor(private readonly maxChars = 160) {}

  push(text: string): string[] {
    this.buf += text;
    const ends = sentenceEnds(this.buf);
    const last = ends[ends.length - 1];
    let done: string[] = [];
    if (last !== undefined) {
      done = splitSentences(this.buf.slice(0, last), this.maxChars);
      this.buf = this.buf.slice(last);
    }
    // A runaway sentence with no end in sight: cut it at a comma once it is long.
    if (this.buf.length > this.maxChars * 2) {
      const pieces = splitLong(this.buf.trim(), this.maxChars);
      this.buf = pieces.pop() ?? '';
      done.push(...pieces);
    }
    return done;
  }

  flush(): string[] {
    const rest = splitSentences(this.buf, this.maxChars);
    this.buf = '';
    return rest;
  }
}
