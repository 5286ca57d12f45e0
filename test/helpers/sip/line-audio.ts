import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mulawEncode } from '../../../src/audio/mulaw.js';
import { readWav } from '../../../src/audio/wav.js';

/** The phone's outgoing audio as the raw μ-law files sipp's rtp_stream plays. */

/**
 * sipp's rtp_stream sends the file's bytes as they are (a WAV header would go out as audio):
 * extract the μ-law data chunk of an 8 kHz μ-law WAV fixture into a raw file, once per dir.
 */
export function rawMulaw(wavPath: string, dir: string): string {
  const wav = readWav(wavPath);
  if (wav.encoding !== 'mulaw' || wav.sampleRate !== 8000 || wav.channels !== 1)
    throw new Error(
      `${wavPath}: need mono 8 kHz μ-law, got ${wav.encoding} ${wav.sampleRate} Hz × ${wav.channels}`,
    );
  const out = join(dir, `${basename(wavPath, '.wav')}.ulaw`);
  // Decoded to linear by readWav; re-encoding gives the file's bytes back (μ-law's two zero
  // codes aside, which sound the same).
  writeFileSync(out, mulawEncode(wav.samples));
  return out;
}

/**
 * One second of a phone's idle line: faint comfort noise (about -66 dBFS), raw μ-law. A phone
 * sends RTP all call long; livekit-sip hangs up a call it has heard nothing from for 30 s.
 */
export function writeIdleLine(dir: string): string {
  let seed = 0x2545f491;
  const samples = new Int16Array(8000);
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    samples[i] = ((seed >>> 16) % 31) - 15;
  }
  const out = join(dir, 'idle-line.ulaw');
  writeFileSync(out, mulawEncode(samples));
  return out;
}

/** Length of a raw μ-law file in ms (8000 bytes a second). */
export function mulawDurationMs(rawPath: string): number {
  return Math.round(readFileSync(rawPath).length / 8);
}
