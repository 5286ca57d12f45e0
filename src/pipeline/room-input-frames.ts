import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AudioStream, type Track } from '@livekit/rtc-node';

/**
 * The size of the caller-audio frames the framework's room input reads. @livekit/agents 1.9
 * opens the caller's track as an rtc-node `AudioStream` without `frameSizeMs`, so every call
 * gets 10 ms frames: 100 FFI events a second, each then passed through the session's web
 * streams (audio input → VAD, STT, recorder). rtc-node can deliver larger frames natively;
 * the framework has no option for it, so this replaces its (unexported) input stream's
 * `createStream` with the same construction plus `frameSizeMs`. Process-wide: every room
 * call of the process gets the size last set. `10` restores the framework's own.
 */

interface InputStreamInternals {
  sampleRate: number;
  numChannels: number;
  frameProcessor?: unknown;
  noiseCancellation?: unknown;
}

type CreateStream = (this: InputStreamInternals, track: Track) => AudioStream;

let current = 10;
let original: CreateStream | undefined;
let prototype: { createStream: CreateStream } | undefined;

async function inputPrototype(): Promise<{ createStream: CreateStream }> {
  if (prototype) return prototype;
  // The package exports only its root; its room input lives next to it in dist/.
  const root = dirname(createRequire(import.meta.url).resolve('@livekit/agents'));
  const url = pathToFileURL(join(root, 'voice/room_io/_input.js')).href;
  const mod = (await import(url)) as {
    ParticipantAudioInputStream: { prototype: { createStream: CreateStream } };
  };
  prototype = mod.ParticipantAudioInputStream.prototype;
  original = prototype.createStream;
  return prototype;
}

export async function setRoomInputFrameMs(frameMs: number): Promise<void> {
  if (!Number.isInteger(frameMs) || frameMs < 10 || frameMs > 100) {
    throw new Error(`room input frame size must be 10–100 ms, got ${frameMs}`);
  }
  if (frameMs === current) return;
  const proto = await inputPrototype();
  current = frameMs;
  if (frameMs === 10 && original) {
    proto.createStream = original;
    return;
  }
  proto.createStream = function createStream(track) {
    return new AudioStream(track, {
      sampleRate: this.sampleRate,
      numChannels: this.numChannels,
      ...(this.frameProcessor || this.noiseCancellation
        ? { noiseCancellation: (this.frameProcessor || this.noiseCancellation) as never }
        : {}),
      autoCloseNoiseCancellation: false,
      frameSizeMs: current,
    });
  };
}

export function roomInputFrameMs(): number {
  return current;
}
