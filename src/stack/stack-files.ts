import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The ports the local stack's processes listen on, read from the same livekit.yaml and
 * livekit-sip.yaml they are started with, so probes and port checks can never disagree with
 * the servers (and a second stack on other ports only needs other files).
 */
export interface StackConfigFiles {
  livekit: string;
  sip: string;
}

export interface StackPorts {
  livekitHttp: number;
  livekitTcp: number;
  sip: number;
  sipHealth: number;
}

function readYaml(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`${path} is not a YAML mapping`);
  return doc as Record<string, unknown>;
}

function portAt(doc: Record<string, unknown>, path: string, keys: string[], fallback: number): number {
  let value: unknown = doc;
  for (const k of keys) value = (value as Record<string, unknown> | undefined)?.[k];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${path}: ${keys.join('.')} must be a port number, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** Defaults are the servers' own, for keys a file leaves out. */
export function readStackPorts(files: StackConfigFiles): StackPorts {
  const lk = readYaml(files.livekit);
  const sip = readYaml(files.sip);
  return {
    livekitHttp: portAt(lk, files.livekit, ['port'], 7880),
    livekitTcp: portAt(lk, files.livekit, ['rtc', 'tcp_port'], 7881),
    sip: portAt(sip, files.sip, ['sip_port'], 5060),
    sipHealth: portAt(sip, files.sip, ['health_port'], 8080),
  };
}
