import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the Debian `pocketsphinx-en-us` package puts the US English model. */
export const DEFAULT_MODEL_ROOT = '/usr/share/pocketsphinx/model/en-us';
export const DEFAULT_ACOUSTIC_MODEL = join(DEFAULT_MODEL_ROOT, 'en-us');
export const DEFAULT_DICTIONARY = join(DEFAULT_MODEL_ROOT, 'cmudict-en-us.dict');
export const DEFAULT_GENERIC_LM = join(DEFAULT_MODEL_ROOT, 'en-us.lm.bin');

export class LocalSpeechUnavailableError extends Error {
  constructor(what: string) {
    super(
      `${what}. The offline speech stack is not installed: run \`npm run setup\` (Debian packages pocketsphinx, pocketsphinx-en-us, flite, espeak-ng, sox).`,
    );
    this.name = 'LocalSpeechUnavailableError';
  }
}

/**
 * The CMU pronouncing dictionary (or any file in its format: `word PH1 PH2 …`, alternates as
 * `word(2) …`). Loaded once per path and shared.
 */
export class PronouncingDictionary {
  private static readonly cache = new Map<string, PronouncingDictionary>();
  private readonly entries: Map<string, string[]>;

  private constructor(
    readonly path: string,
    entries: Map<string, string[]>,
  ) {
    this.entries = entries;
  }

  static load(path = DEFAULT_DICTIONARY): PronouncingDictionary {
    const cached = PronouncingDictionary.cache.get(path);
    if (cached) return cached;
    if (!existsSync(path)) throw new LocalSpeechUnavailableError(`Pronouncing dictionary ${path} not found`);
    const entries = new Map<string, string[]>();
    const text = readFileSync(path, 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (!line || line.startsWith(';;;')) continue;
      const sp = line.search(/\s/);
      if (sp < 0) continue;
      const word = line.slice(0, sp).replace(/\(\d+\)$/, '');
      const phones = line
        .slice(sp + 1)
        .trim()
        .replace(/\s+/g, ' ');
      const list = entries.get(word);
      if (list) list.push(phones);
      else entries.set(word, [phones]);
    }
    const dict = new PronouncingDictionary(path, entries);
    PronouncingDictionary.cache.set(path, dict);
    return dict;
  }

  get size(): number {
    return this.entries.size;
  }

  has(word: string): boolean {
    return this.entries.has(word);
  }

  /** All pronunciations of a word (empty when unknown). */
  pronunciations(word: string): readonly string[] {
    return this.entries.get(word) ?? [];
  }

  /** A dictionary file (pocketsphinx format) holding only `words`, with their alternates. */
  subset(words: Iterable<string>): string {
    const lines: string[] = [];
    for (const w of [...new Set(words)].sort()) {
      const prons = this.entries.get(w);
      if (!prons) continue;
      prons.forEach((p, i) => {
        lines.push(i === 0 ? `${w} ${p}` : `${w}(${i + 1}) ${p}`);
      });
    }
    return `${lines.join('\n')}\n`;
  }
}
