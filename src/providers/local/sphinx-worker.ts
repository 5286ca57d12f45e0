import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The pocketsphinx decoder lives in a worker thread: `ps_process_raw` on a 20 ms chunk can take
 * longer than 20 ms (and the final pass at end of utterance longer still), so it must never run
 * on the event loop that carries the call's audio.
 *
 * The worker body is {@link decoderWorkerMain}, a self-contained function (it may only use its
 * parameters and globals) that is started from its own source text with `eval: true`. That way
 * the same code runs from `dist/` and from the TypeScript sources under vitest, with no
 * separate worker file to locate or build.
 */

export type SearchSpec =
  | { kind: 'ngram'; path: string }
  | { kind: 'grammar'; path: string }
  /** A JSGF grammar given as text (per-state grammars, built at run time). */
  | { kind: 'jsgf'; text: string }
  /** The model's generic English LM (poor: use only without a domain). */
  | { kind: 'generic'; path: string };

export interface DecoderInit {
  koffiPath: string;
  pocketsphinxLib: string;
  sphinxbaseLib: string;
  /** pocketsphinx command-line style arguments (model, dictionary, tuning). */
  args: string[];
  search: SearchSpec;
  /** How many n-best hypotheses to return with each final transcript (the best included). */
  nbest: number;
  /** Look up the partial hypothesis every N audio messages (default 1). */
  partialEvery: number;
  /**
   * Re-decode each utterance once more at its end while this decoder has heard less than this
   * much audio (ms); see {@link DecoderFinal.redecoded}. 0 disables.
   */
  redecodeUntilMs: number;
}

export type ToDecoder =
  | { type: 'start'; utt: number }
  | { type: 'audio'; utt: number; pcm: Int16Array }
  | { type: 'end'; utt: number }
  /**
   * Switch search between utterances; `words` are [word, phones] pairs to add first. A name
   * the decoder already holds is switched to without rebuilding; `search` omitted means
   * "switch to that existing search" ('' names the search the decoder started with).
   */
  | { type: 'search'; name: string; search?: SearchSpec; words: Array<[string, string]> }
  | { type: 'close' };

export interface DecoderFinal {
  type: 'final';
  utt: number;
  text: string;
  /** Path score (log, base 1.0001). */
  score: number;
  /** Mean word posterior in [0, 1] (0 for an empty hypothesis). */
  confidence: number;
  /** Recognized words with their posterior probabilities. */
  words: Array<{ word: string; confidence: number }>;
  /**
   * The decoder's n-best list (best first, duplicates removed), each with its path score and a
   * confidence relative to the best: 1.0001^(score - bestScore), so the best has 1.
   */
  alternatives: Array<{ text: string; score: number; relative: number }>;
  /** Name of the search that decoded this utterance. */
  search: string;
  /** Audio given to this utterance, in ms (16 kHz). */
  audioMs: number;
  /** Time spent in ps_process_raw for this utterance, and the slowest single call. */
  processMs: number;
  maxChunkMs: number;
  /** Time ps_end_utt + ps_get_hyp took (the final pass, including any re-decode). */
  endMs: number;
  /** Whether the transcript comes from a second decode of the utterance (early in a stream). */
  redecoded: boolean;
}

export type FromDecoder =
  | { type: 'ready'; initMs: number }
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'partial'; utt: number; text: string }
  | { type: 'speech'; utt: number; inSpeech: boolean }
  | DecoderFinal
  | { type: 'search-set'; name: string }
  | { type: 'closed' };

interface Port {
  on(event: 'message', cb: (msg: ToDecoder) => void): void;
  postMessage(msg: FromDecoder): void;
  close(): void;
}

// biome-ignore lint/suspicious/noExplicitAny: koffi's untyped function handles
type Koffi = { load(path: string): { func(decl: string): any } };

/** Runs inside the worker thread. Self-contained: no imports, no module-level references. */
export function decoderWorkerMain(init: DecoderInit, port: Port, koffi: Koffi): void {
  const t0 = performance.now();
  let ps: ReturnType<Koffi['load']>;
  let sb: ReturnType<Koffi['load']>;
  try {
    sb = koffi.load(init.sphinxbaseLib);
    ps = koffi.load(init.pocketsphinxLib);
  } catch (err) {
    port.postMessage({
      type: 'error',
      fatal: true,
      message: `cannot load ${init.pocketsphinxLib}: ${(err as Error).message}`,
    });
    return;
  }
  const ps_args = ps.func('void *ps_args(void)');
  const cmd_ln_parse_r = sb.func(
    'void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)',
  );
  const cmd_ln_free_r = sb.func('int cmd_ln_free_r(void *cmdln)');
  const ps_init = ps.func('void *ps_init(void *config)');
  const ps_free = ps.func('int ps_free(void *ps)');
  const ps_start_utt = ps.func('int ps_start_utt(void *ps)');
  const ps_process_raw = ps.func(
    'int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
  );
  const ps_get_in_speech = ps.func('uint8_t ps_get_in_speech(void *ps)');
  const ps_get_hyp = ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)');
  const ps_end_utt = ps.func('int ps_end_utt(void *ps)');
  const ps_seg_iter = ps.func('void *ps_seg_iter(void *ps)');
  const ps_seg_next = ps.func('void *ps_seg_next(void *seg)');
  const ps_seg_word = ps.func('const char *ps_seg_word(void *seg)');
  const ps_seg_prob = ps.func(
    'int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)',
  );
  const ps_set_lm_file = ps.func('int ps_set_lm_file(void *ps, const char *name, const char *path)');
  const ps_set_jsgf_file = ps.func('int ps_set_jsgf_file(void *ps, const char *name, const char *path)');
  const ps_set_search = ps.func('int ps_set_search(void *ps, const char *name)');
  const ps_add_word = ps.func('int ps_add_word(void *ps, const char *word, const char *phones, int update)');
  const ps_set_jsgf_string = ps.func(
    'int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf_string)',
  );
  const ps_get_search = ps.func('const char *ps_get_search(void *ps)');
  const ps_nbest = ps.func('void *ps_nbest(void *ps)');
  const ps_nbest_next = ps.func('void *ps_nbest_next(void *nbest)');
  const ps_nbest_hyp = ps.func('const char *ps_nbest_hyp(void *nbest, _Out_ int32_t *score)');
  const ps_nbest_free = ps.func('void ps_nbest_free(void *nbest)');

  if (init.search.kind === 'jsgf') {
    port.postMessage({ type: 'error', fatal: true, message: 'the initial search must be a file' });
    return;
  }
  const searchArgs = init.search.kind === 'grammar' ? ['-jsgf', init.search.path] : ['-lm', init.search.path];
  const argv = [...init.args, ...searchArgs];
  const config = cmd_ln_parse_r(null, ps_args(), argv.length, argv, 1);
  if (!config) {
    port.postMessage({
      type: 'error',
      fatal: true,
      message: `pocketsphinx rejected its arguments: ${argv.join(' ')}`,
    });
    return;
  }
  const decoder = ps_init(config);
  if (!decoder) {
    cmd_ln_free_r(config);
    port.postMessage({
      type: 'error',
      fatal: true,
      message: `pocketsphinx could not initialise (model, dictionary or ${init.search.kind} file unreadable?): ${argv.join(' ')}`,
    });
    return;
  }
  // ps_init retained the config; drop our reference.
  cmd_ln_free_r(config);
  const initialSearch = (ps_get_search(decoder) as string | null) ?? '_default';
  const searches = new Set<string>([initialSearch]);
  let currentSearch = initialSearch;
  const stale = new Set<string>();
  const internalName = new Map<string, string>();
  let rebuilds = 0;
  const specs = new Map<string, SearchSpec>([[initialSearch, init.search]]);

  // Lattice n-best: unique texts, best first; stops early (freeing the iterator) at init.nbest.
  const nbestList = (best: { text: string; score: number }) => {
    const out = [{ text: best.text, score: best.score, relative: 1 }];
    if (init.nbest <= 1 || !best.text) return out;
    const seen = new Set([best.text]);
    let nb = ps_nbest(decoder);
    let steps = 0;
    while (nb && out.length < init.nbest && steps++ < init.nbest * 20) {
      const sc = [0];
      const raw = (ps_nbest_hyp(nb, sc) as string | null) ?? '';
      const text = raw
        .split(/\s+/)
        .filter((w) => w && !/^[<[+]/.test(w))
        .map((w) => w.replace(/\(\d+\)$/, ''))
        .join(' ');
      if (text && !seen.has(text)) {
        seen.add(text);
        const score = sc[0] ?? 0;
        out.push({ text, score, relative: Math.min(1, 1.0001 ** (score - best.score)) });
      }
      nb = ps_nbest_next(nb);
    }
    if (nb) ps_nbest_free(nb);
    return out;
  };

  let utt = -1;
  let started = false;
  let inSpeech = false;
  let lastPartial = '';
  let messages = 0;
  let samples = 0;
  let processMs = 0;
  let maxChunkMs = 0;
  let closed = false;
  let heardMs = 0; // speech this decoder has adapted to, all utterances (ms)
  let uttAudio: Int16Array[] = []; // this utterance's audio from shortly before speech began
  let uttSpeechSeen = false;
  let uttOverflow = false;
  const PREROLL_CHUNKS = 25; // 0.5 s kept before the first speech
  const MAX_REDECODE_CHUNKS = 1000; // 20 s

  const hyp = (): { text: string; score: number } => {
    const score = [0];
    const text = ps_get_hyp(decoder, score) as string | null;
    return { text: text ?? '', score: score[0] ?? 0 };
  };
  const start = (id: number) => {
    if (started) ps_end_utt(decoder);
    utt = id;
    started = ps_start_utt(decoder) >= 0;
    if (!started) port.postMessage({ type: 'error', fatal: false, message: 'ps_start_utt failed' });
    inSpeech = false;
    lastPartial = '';
    messages = 0;
    samples = 0;
    processMs = 0;
    maxChunkMs = 0;
    uttAudio = [];
    uttSpeechSeen = false;
    uttOverflow = false;
  };

  port.on('message', (msg: ToDecoder) => {
    if (closed) return;
    switch (msg.type) {
      case 'start':
        start(msg.utt);
        break;
      case 'audio': {
        if (!started || msg.utt !== utt) start(msg.utt);
        const t = performance.now();
        ps_process_raw(decoder, msg.pcm, msg.pcm.length, 0, 0);
        const dt = performance.now() - t;
        processMs += dt;
        if (dt > maxChunkMs) maxChunkMs = dt;
        samples += msg.pcm.length;
        messages++;
        const speech = ps_get_in_speech(decoder) !== 0;
        // While the decoder is new, keep the utterance's audio for a re-decode: everything
        // from 0.5 s before speech began (silence before that is dropped), up to 20 s.
        if (heardMs < init.redecodeUntilMs && !uttOverflow) {
          uttAudio.push(msg.pcm);
          if (speech) uttSpeechSeen = true;
          if (!uttSpeechSeen && uttAudio.length > PREROLL_CHUNKS) uttAudio.shift();
          if (uttAudio.length > MAX_REDECODE_CHUNKS) {
            uttOverflow = true;
            uttAudio = [];
          }
        }
        if (speech !== inSpeech) {
          inSpeech = speech;
          port.postMessage({ type: 'speech', utt, inSpeech });
        }
        if (messages % init.partialEvery === 0) {
          const { text } = hyp();
          if (text && text !== lastPartial) {
            lastPartial = text;
            port.postMessage({ type: 'partial', utt, text });
          }
        }
        break;
      }
      case 'end': {
        if (!started || msg.utt !== utt) start(msg.utt);
        const t = performance.now();
        ps_end_utt(decoder);
        started = false;
        // Cepstral mean normalisation starts from a fixed prior and only adapts to the caller's
        // channel as it hears them, so a fresh decoder mishears its first utterances — on
        // 8 kHz phone audio badly. While the decoder is new, decode the utterance a second time
        // with the adapted estimate; it costs a few % of real time.
        const redecoded =
          heardMs < init.redecodeUntilMs && uttSpeechSeen && !uttOverflow && uttAudio.length > 0;
        if (uttSpeechSeen) heardMs += (uttAudio.length * 320) / 16;
        if (redecoded) {
          let n = 0;
          for (const c of uttAudio) n += c.length;
          const all = new Int16Array(n);
          let o = 0;
          for (const c of uttAudio) {
            all.set(c, o);
            o += c.length;
          }
          ps_start_utt(decoder);
          for (let k = 0; k < all.length; k += 3200) {
            const block = all.subarray(k, k + 3200);
            ps_process_raw(decoder, block, block.length, 0, 0);
          }
          ps_end_utt(decoder);
        }
        uttAudio = [];
        const { text, score } = hyp();
        // Word posteriors (logs in base 1.0001, the -logbase default); fillers skipped.
        const words: Array<{ word: string; confidence: number }> = [];
        for (let seg = ps_seg_iter(decoder); seg; seg = ps_seg_next(seg)) {
          const word = ps_seg_word(seg) as string;
          if (/^[<[+]/.test(word)) continue;
          const post = ps_seg_prob(seg, [0], [0], [0]) as number;
          words.push({
            word: word.replace(/\(\d+\)$/, ''),
            confidence: Math.min(1, Math.max(0, 1.0001 ** post)),
          });
        }
        const confidence = words.length ? words.reduce((a, w) => a + w.confidence, 0) / words.length : 0;
        const alternatives = nbestList({ text, score });
        const endMs = performance.now() - t;
        port.postMessage({
          type: 'final',
          utt,
          text,
          score,
          confidence,
          words,
          alternatives,
          search: currentSearch === initialSearch ? '' : currentSearch,
          audioMs: samples / 16,
          processMs,
          maxChunkMs,
          endMs,
          redecoded,
        });
        break;
      }
      case 'search': {
        if (started) {
          ps_end_utt(decoder);
          started = false;
        }
        const name = msg.name || initialSearch;
        if (msg.search) specs.set(name, msg.search);
        const spec = specs.get(name);
        // Searches built before ps_add_word keep the old dictionary's size and crash the
        // decoder when used again (even the one current during the add), so each is rebuilt
        // from its spec — a JSGF text or a small LM file; the acoustic model stays loaded —
        // when next switched to.
        if (msg.words.length) for (const other of searches) stale.add(other);
        for (let i = 0; i < msg.words.length; i++) {
          const [word, phones] = msg.words[i] as [string, string];
          ps_add_word(decoder, word, phones, i === msg.words.length - 1 ? 1 : 0);
        }
        let rc = 0;
        if (!searches.has(name) || msg.search || stale.has(name)) {
          // A fresh decoder-side name each time: replacing a search under its own name frees
          // one the decoder may still reference.
          const internal = `${name}#${++rebuilds}`;
          if (!spec) rc = -1;
          else if (spec.kind === 'jsgf') rc = ps_set_jsgf_string(decoder, internal, spec.text);
          else if (spec.kind === 'grammar') rc = ps_set_jsgf_file(decoder, internal, spec.path);
          else rc = ps_set_lm_file(decoder, internal, spec.path);
          if (rc >= 0) {
            searches.add(name);
            stale.delete(name);
            internalName.set(name, internal);
          }
        }
        if (rc < 0 || ps_set_search(decoder, internalName.get(name) ?? name) < 0) {
          port.postMessage({ type: 'error', fatal: false, message: `could not switch search to ${name}` });
        } else {
          currentSearch = name;
          port.postMessage({ type: 'search-set', name: msg.name });
        }
        break;
      }
      case 'close':
        closed = true;
        if (started) ps_end_utt(decoder);
        ps_free(decoder);
        port.postMessage({ type: 'closed' });
        port.close();
        break;
    }
  });
  port.postMessage({ type: 'ready', initMs: performance.now() - t0 });
}

const WORKER_SOURCE = `
const __name = (f) => f; // esbuild keepNames helper, in case the function text references it
const { parentPort, workerData } = require('node:worker_threads');
(${decoderWorkerMain.toString()})(workerData, parentPort, require(workerData.koffiPath));
`;

let koffiPath: string | undefined;

/** Resolves koffi from this package (the worker cannot resolve bare specifiers itself). */
export function resolveKoffi(): string {
  koffiPath ??= createRequire(import.meta.url).resolve('koffi');
  return koffiPath;
}

export function startDecoderWorker(init: Omit<DecoderInit, 'koffiPath'>): Worker {
  return new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { ...init, koffiPath: resolveKoffi() } satisfies DecoderInit,
    name: 'pocketsphinx-decoder',
  });
}
