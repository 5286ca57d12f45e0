import { addNoiseFloor } from '../src/audio/level.js';
import { concatInt16 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { parseVoice, synthesizeText, voiceSampleRate } from '../src/providers/local/synth.js';

/**
 * Recordings of how calls are answered, synthesized offline (flite and espeak-ng, several
 * voices), at telephone rate (8 kHz) with line noise: people answering ("hello?", "hello, who
 * is this?") and then waiting, and voicemail greetings with and without a beep at different
 * pitches. Deterministic: the same set every run.
 */

export const AMD_RATE = 8000;

export interface AmdFixture {
  name: string;
  truth: 'human' | 'machine';
  samples: Int16Array;
}

const HUMAN = [
  'Hello?',
  'Hello, who is this?',
  'Yes, hello.',
  'Hi, Dana speaking.',
  'Good morning.',
  'Yeah?',
  "Hello, who's calling please?",
  'Hello, this is Mark.',
];

const MACHINE = [
  "Hi, you've reached Dana Reyes. I can't take your call right now. Please leave a message after the tone.",
  'The person you are calling is not available. Please leave a message after the beep.',
  "Hello, this is Mark. Sorry I missed you. Leave your name and number and I'll call you back.",
  'You have reached the voicemail of extension four two one. Please record your message.',
  'Thank you for calling. Nobody is available to take your call. Please leave a message.',
  "Hi, it's Sam. I'm away from the phone, leave a message.",
];

/** Short greetings that only the beep gives away. */
const MACHINE_SHORT = ['Leave a message.', 'Please leave a message.', "It's Sam, leave a message."];

/** Greetings with a pause between sentences longer than a person's between words. */
const MACHINE_PAUSED: [string, string][] = [
  ["Hi, you've reached Dana.", 'Please leave a message after the tone.'],
  ['This is the Reyes family.', "We can't come to the phone, leave a message."],
];

/** People who say a whole sentence before they wait: the hard case for any detector. */
const HUMAN_LONG = ['Hello, this is Dana Reyes speaking, how can I help you today?'];

const VOICES = ['slt', 'awb', 'rms', 'espeak-ng:en-us+f3'];
const BEEPS = [1000, 850, 1400];

function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((AMD_RATE * ms) / 1000));
}

function tone(hz: number, ms: number, dbfs = -12): Int16Array {
  const out = new Int16Array(Math.round((AMD_RATE * ms) / 1000));
  const amplitude = 32768 * 10 ** (dbfs / 20);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / AMD_RATE));
  return out;
}

async function speak(text: string, voiceName: string): Promise<Int16Array> {
  const voice = parseVoice(voiceName);
  return resample(await synthesizeText(text, voice), voiceSampleRate(voice), AMD_RATE);
}

/** The whole set: every greeting in every voice; machines with and without a beep. */
export async function buildAmdSet(options: { limit?: number } = {}): Promise<AmdFixture[]> {
  const fixtures: AmdFixture[] = [];
  for (const [v, voice] of VOICES.entries()) {
    for (const [i, text] of HUMAN.entries()) {
      // A person waits for the caller after their greeting (a little line noise, no speech).
      const samples = concatInt16([silence(300 + 100 * (i % 3)), await speak(text, voice), silence(3000)]);
      fixtures.push({ name: `human-${voice}-${i}`, truth: 'human', samples: addNoiseFloor(samples, -60) });
    }
    for (const [i, text] of MACHINE.entries()) {
      const greeting = await speak(text, voice);
      const withBeep = (i + v) % 2 === 0;
      const parts = [silence(400), greeting, silence(500)];
      if (withBeep) parts.push(tone(BEEPS[(i + v) % BEEPS.length]!, 500), silence(1500));
      else parts.push(silence(2500));
      const name = `machine-${voice}-${i}${withBeep ? '-beep' : ''}`;
      fixtures.push({ name, truth: 'machine', samples: addNoiseFloor(concatInt16(parts), -60) });
    }
    for (const [i, text] of MACHINE_SHORT.entries()) {
      const parts = [
        silence(400),
        await speak(text, voice),
        silence(300),
        tone(BEEPS[i % BEEPS.length]!, 450),
        silence(2000),
      ];
      fixtures.push({
        name: `machine-short-${voice}-${i}-beep`,
        truth: 'machine',
        samples: addNoiseFloor(concatInt16(parts), -60),
      });
    }
    for (const [i, [first, second]] of MACHINE_PAUSED.entries()) {
      const beep = (i + v) % 2 === 0;
      const parts = [
        silence(400),
        await speak(first, voice),
        silence(1100),
        await speak(second, voice),
        silence(400),
      ];
      if (beep) parts.push(tone(BEEPS[v % BEEPS.length]!, 500));
      parts.push(silence(2000));
      const name = `machine-paused-${voice}-${i}${beep ? '-beep' : ''}`;
      fixtures.push({ name, truth: 'machine', samples: addNoiseFloor(concatInt16(parts), -60) });
    }
    for (const [i, text] of HUMAN_LONG.entries()) {
      const samples = concatInt16([silence(300), await speak(text, voice), silence(3000)]);
      fixtures.push({
        name: `human-long-${voice}-${i}`,
        truth: 'human',
        samples: addNoiseFloor(samples, -60),
      });
    }
    // A person on a noisy line (street, car): the floor is far above digital silence.
    const noisy = concatInt16([silence(500), await speak(HUMAN[v % HUMAN.length]!, voice), silence(3000)]);
    fixtures.push({ name: `human-noisy-${voice}`, truth: 'human', samples: addNoiseFloor(noisy, -40) });
    if (options.limit && fixtures.length >= options.limit) break;
  }
  // The carrier's voicemail without any greeting: a beep after a moment's silence.
  fixtures.push({
    name: 'machine-beep-only',
    truth: 'machine',
    samples: addNoiseFloor(concatInt16([silence(900), tone(1000, 600), silence(2500)]), -60),
  });
  return options.limit ? fixtures.slice(0, options.limit) : fixtures;
}
