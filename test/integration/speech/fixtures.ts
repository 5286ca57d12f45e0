import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav, type Wav } from '../../../src/audio/wav.js';

export const AUDIO_DIR = join(import.meta.dirname, '../../fixtures/audio');

export interface Fixture {
  file: string;
  text: string;
  voice: string;
  engine: 'flite' | 'espeak-ng';
  /** "phrase": the domain language has a template for it; "variation": it does not. */
  set: 'phrase' | 'variation';
  mulaw: string;
}

export function loadFixtures(): Fixture[] {
  const refs = JSON.parse(readFileSync(join(AUDIO_DIR, 'references.json'), 'utf8')) as Record<
    string,
    Omit<Fixture, 'file'>
  >;
  return Object.entries(refs).map(([file, r]) => ({ file, ...r }));
}

export function fixtureAudio(f: Fixture, variant: '16k' | 'mulaw8k'): Wav {
  return readWav(join(AUDIO_DIR, variant === '16k' ? `16k/${f.file}` : f.mulaw));
}
