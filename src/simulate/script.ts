import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { callScriptSchema, callTurnSchema, flowScriptProblems } from '../../agents/call-scripts.js';
import { findFlowPackage, flowNames } from '../../agents/index.js';
import type { Pcm } from '../audio/clip.js';
import { downmixToMono } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import { parseWav, WavFormatError } from '../audio/wav.js';
import type { CallerScript, CallerTurn } from '../pipeline/simulator.js';

/**
 * Caller scripts for `voice-agent simulate`. The format is the one of agents/<flow>/calls
 * (agents/call-scripts.ts owns it and the text-level tests read it there); this module widens
 * it for the command line rather than redefining it:
 * - `flow`, `now` and `expect` are optional (`--flow` / config FLOW, `--now` / wall clock);
 * - a turn may be `{ audio: "file.wav" }` (path relative to the script), recorded speech
 *   played instead of synthesized text.
 * Every failure here is a ScriptError: one line naming the file and the field, which the CLI
 * prints without a stack.
 */

export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    // main.ts prints errors with this name as one clear line.
    this.name = 'ScriptError';
  }
}

/** The sample rate the simulator feeds the session (silero and pocketsphinx both take 16 kHz). */
export const PIPELINE_SAMPLE_RATE = 16_000;

const speakingTurn = callTurnSchema.options[0];
const audioTurnSchema = z.strictObject({
  audio: z.string().min(1),
  barge_in_after_ms: speakingTurn.shape.barge_in_after_ms,
});

const turnSchema = z.union([...callTurnSchema.options, audioTurnSchema]);
/** The key that names each branch's kind (say, silence_ms, …), in the order of the branches. */
const TURN_KINDS = turnSchema.options.map(
  (o) => Object.keys(o.shape).find((k) => k !== 'barge_in_after_ms')!,
);

export const simulationScriptSchema = callScriptSchema.extend({
  flow: callScriptSchema.shape.flow.optional(),
  now: callScriptSchema.shape.now.optional(),
  turns: z.array(turnSchema).min(1),
  expect: callScriptSchema.shape.expect.optional(),
});

export type SimulationScript = z.infer<typeof simulationScriptSchema>;
export type SimulationTurn = z.infer<typeof turnSchema>;
export type ScriptExpectation = NonNullable<SimulationScript['expect']>;

/** A parsed script plus where it came from (audio paths are relative to it). */
export interface LoadedScript {
  script: SimulationScript;
  path: string;
  dir: string;
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/**
 * One readable reason per issue. A turn that matches no kind makes zod report a bare
 * "Invalid input" union failure; say instead which keys a turn may have and which it had,
 * or, when the kind is clear from its key, that kind's own complaint.
 */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'invalid_union' && issue.path[0] === 'turns' && typeof issue.path[1] === 'number') {
    const turn = (input as { turns?: unknown[] })?.turns?.[issue.path[1]];
    const where = fieldPath(issue.path);
    if (turn === null || typeof turn !== 'object' || Array.isArray(turn)) {
      return `${where}: a turn must be a mapping like { say: "..." }, got ${JSON.stringify(turn)}`;
    }
    const keys = Object.keys(turn);
    const kinds = TURN_KINDS.filter((k) => keys.includes(k));
    if (kinds.length === 1) {
      const branch = issue.errors[TURN_KINDS.indexOf(kinds[0]!)] ?? [];
      const first = branch[0];
      if (first) return describeIssue({ ...first, path: [...issue.path, ...first.path] }, input);
    }
    return `${where}: a turn needs exactly one of ${TURN_KINDS.join(', ')} (optionally with barge_in_after_ms); found keys: ${keys.join(', ') || 'none'}`;
  }
  return `${fieldPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Parses and validates a script's YAML text; `source` names it in errors. */
export function parseSimulationScript(text: string, source = 'caller script'): SimulationScript {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const why = err instanceof YAMLParseError ? err.message.split('\n')[0]!.replace(/:$/, '') : String(err);
    throw new ScriptError(`${source}: not valid YAML: ${why}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScriptError(`${source}: expected a mapping with at least "turns:", got ${typeof raw}`);
  }
  const parsed = simulationScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => describeIssue(i, raw)).join('; ');
    throw new ScriptError(`${source}: ${why}`);
  }
  // The flow's own parts (setup, expectations) by its package's schemas; without `flow:` the
  // development default's, which is what the call will run unless --flow says otherwise.
  const pkg = findFlowPackage(parsed.data.flow ?? flowNames[0] ?? '');
  const problems = pkg
    ? flowScriptProblems(pkg, {
        setup: parsed.data.setup,
        settings: parsed.data.settings,
        expect: parsed.data.expect ?? { final_state: '', slots: {} },
      })
    : [];
  const relevant = parsed.data.expect ? problems : problems.filter((p) => !p.startsWith('expect'));
  if (relevant.length) throw new ScriptError(`${source}: ${relevant.join('; ')}`);
  return parsed.data;
}

export async function loadSimulationScript(path: string): Promise<LoadedScript> {
  const full = resolve(path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScriptError(
      `cannot read caller script ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return { script: parseSimulationScript(text, path), path: full, dir: dirname(full) };
}

/**
 * Decodes a caller recording to mono PCM16 at the pipeline's rate. Only 16-bit PCM, mono or
 * stereo, is accepted: other encodings (8-bit, float, μ-law, …) would need a conversion
 * whose loss the script author should decide on (e.g. with sox), so they are refused with
 * what was found.
 */
export function decodeCallerAudio(bytes: Uint8Array, source: string): Pcm {
  let wav: ReturnType<typeof parseWav>;
  try {
    wav = parseWav(bytes, {}, source);
  } catch (err) {
    if (err instanceof WavFormatError) throw new ScriptError(err.message);
    throw err;
  }
  const layout = `${wav.channels}-channel ${wav.encoding} at ${wav.sampleRate} Hz`;
  if (wav.encoding !== 'pcm16' || wav.channels > 2) {
    throw new ScriptError(
      `${source}: unusable audio format (${layout}); caller audio must be 16-bit PCM WAV, mono or stereo, any sample rate (convert with e.g. \`sox in.wav -b 16 -c 1 out.wav\`)`,
    );
  }
  if (wav.samples.length < wav.channels) throw new ScriptError(`${source}: the WAV file holds no audio`);
  if (wav.sampleRate < 8000 || wav.sampleRate > 192_000) {
    throw new ScriptError(`${source}: unusable sample rate ${wav.sampleRate} Hz (8000–192000 Hz supported)`);
  }
  const mono = downmixToMono(wav.samples, wav.channels);
  return { sampleRate: PIPELINE_SAMPLE_RATE, samples: resample(mono, wav.sampleRate, PIPELINE_SAMPLE_RATE) };
}

export async function loadCallerAudio(path: string, source = path): Promise<Pcm> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScriptError(
      `${source}: cannot read audio file ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return decodeCallerAudio(bytes, source);
}

/**
 * The simulator's form of the script: audio files loaded (so a missing or unusable file
 * fails before the call starts), `say` texts left for the synthesizer.
 */
export async function toCallerScript(loaded: LoadedScript): Promise<CallerScript> {
  const { script } = loaded;
  const turns: CallerTurn[] = [];
  for (const [i, turn] of script.turns.entries()) {
    if ('audio' in turn) {
      const file = resolve(loaded.dir, turn.audio);
      const audio = await loadCallerAudio(file, `${loaded.path}: turns[${i}].audio (${turn.audio})`);
      turns.push({
        audio,
        ...(turn.barge_in_after_ms !== undefined ? { barge_in_after_ms: turn.barge_in_after_ms } : {}),
      });
    } else {
      turns.push(turn);
    }
  }
  return {
    ...(script.name ? { name: script.name } : {}),
    turns,
    ...(script.barge_in_after_ms !== undefined ? { barge_in_after_ms: script.barge_in_after_ms } : {}),
  };
}

/**
 * Whether a script needs real time: a barge-in needs the agent's audio to play at real pace to
 * be interrupted. (Silence does not: the simulator keeps `silence_ms` on the wall clock even
 * in fast mode, like the engine's no-input timer.)
 */
export function needsRealTime(script: SimulationScript): boolean {
  return (
    script.barge_in_after_ms !== undefined ||
    script.turns.some((t) => 'barge_in_after_ms' in t && t.barge_in_after_ms !== undefined)
  );
}
