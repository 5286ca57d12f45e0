import type { CallEvent, EventSink } from '../events/index.js';
import type { SimulationResult } from '../pipeline/simulator.js';
import type { ScriptExpectation } from './script.js';

/**
 * What `voice-agent simulate` shows: the `--json` object (exactly the documented fields; the
 * simulator's result carries more, e.g. exchanges and audio stats, which stay internal), the
 * live transcript and the latency table of the text mode, and the check of a script's
 * `expect:` block.
 */

export interface LatencyRow {
  eou_ms: number | null;
  stt_ms: number | null;
  llm_ttft_ms: number | null;
  tts_ttfb_ms: number | null;
  v2v_ms: number | null;
}

export interface SimulationReport {
  flow: string | null;
  final_state: string;
  slots: Record<string, unknown>;
  /** The flow's records of the call (type and data), in order. */
  records: { type: string; data: Record<string, unknown> }[];
  turns: { role: 'user' | 'agent'; text: string; state: string | null }[];
  transitions: { from: string | null; to: string; trigger: string }[];
  latency: { turns: LatencyRow[]; p50_v2v_ms: number | null; p95_v2v_ms: number | null };
  errors: { error_type: string; message: string; severity: string; recoverable: boolean }[];
}

export function toReport(result: SimulationResult): SimulationReport {
  return {
    flow: result.flow,
    final_state: result.final_state,
    slots: result.slots,
    records: result.records.map((r) => ({ type: r.type, data: { ...r.data } })),
    turns: result.turns.map((t) => ({ role: t.role, text: t.text, state: t.state ?? null })),
    transitions: result.transitions.map((t) => ({ from: t.from, to: t.to, trigger: t.trigger })),
    latency: {
      turns: result.latency.turns.map((t) => ({
        eou_ms: round(t.eou_ms),
        stt_ms: round(t.stt_ms),
        llm_ttft_ms: round(t.llm_ttft_ms),
        tts_ttfb_ms: round(t.tts_ttfb_ms),
        v2v_ms: round(t.v2v_ms),
      })),
      p50_v2v_ms: round(result.latency.p50_v2v_ms),
      p95_v2v_ms: round(result.latency.p95_v2v_ms),
    },
    // No stacks or provider internals: the message says what went wrong.
    errors: result.errors.map((e) => ({
      error_type: e.error_type,
      message: e.message,
      severity: e.severity,
      recoverable: e.recoverable,
    })),
  };
}

function round(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Math.round(v);
}

/**
 * Unmet expectations (empty = the call achieved its task), with the same meaning as the
 * text-level check in agents/call-scripts.ts: final state, each listed slot (JSON-equal), and
 * the flow's own expectations on its records (`flowCheck`, from the flow package).
 */
export function checkExpectations(
  report: SimulationReport,
  expect: ScriptExpectation,
  flowCheck: (records: SimulationReport['records']) => string[] = () => [],
): string[] {
  const failures: string[] = [];
  if (report.final_state !== expect.final_state) {
    failures.push(`final state ${report.final_state}, expected ${expect.final_state}`);
  }
  for (const [k, v] of Object.entries(expect.slots)) {
    if (JSON.stringify(report.slots[k]) !== JSON.stringify(v)) {
      failures.push(`slot ${k} = ${JSON.stringify(report.slots[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  failures.push(...flowCheck(report.records));
  return failures;
}

export function formatTurn(role: 'user' | 'agent', text: string, state?: string | null): string {
  const who = role === 'agent' ? 'agent ' : 'caller';
  return `${who} ${state ? `[${state}] ` : ''}${text}`;
}

/** Prints every turn the moment the call recorder records it (the live transcript). */
export class LiveTranscriptSink implements EventSink {
  constructor(private readonly write: (line: string) => void) {}

  emit(event: CallEvent): void {
    if (event.type === 'turn') {
      const p = event.payload;
      const interrupted = p.metadata?.interrupted === true ? ' (interrupted)' : '';
      this.write(formatTurn(p.role, `${p.text}${interrupted}`, p.state_at_turn));
    } else if (event.type === 'error') {
      this.write(`  ! ${event.payload.error_type}: ${event.payload.message}`);
    }
  }

  async flush(): Promise<void> {}
}

const COLUMNS: [keyof LatencyRow, string][] = [
  ['eou_ms', 'eou'],
  ['stt_ms', 'stt'],
  ['llm_ttft_ms', 'llm ttft'],
  ['tts_ttfb_ms', 'tts ttfb'],
  ['v2v_ms', 'v2v'],
];

/** Per-turn stage latencies in ms, then p50/p95 of voice-to-voice. */
export function formatLatencyTable(latency: SimulationReport['latency']): string {
  const header = ['turn', ...COLUMNS.map(([, h]) => h)];
  const rows = latency.turns.map((t, i) => [String(i + 1), ...COLUMNS.map(([k]) => cell(t[k]))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((v, c) => v.padStart(widths[c]!)).join('  ');
  const out = [`latency (ms)`, line(header), ...rows.map(line)];
  if (rows.length === 0) out.push('(no caller speech turns measured)');
  out.push(`v2v p50 ${cell(latency.p50_v2v_ms)} ms, p95 ${cell(latency.p95_v2v_ms)} ms`);
  return out.join('\n');
}

function cell(v: number | null): string {
  return v === null ? '-' : String(v);
}

/** The text mode's closing block: outcome, slots, records, errors, latency, expectations. */
export function formatSummary(
  report: SimulationReport,
  extra: { endedBy: string; durationMs: number; failures: string[] | null },
): string {
  const out: string[] = [''];
  out.push(
    `flow ${report.flow ?? '-'}: final state ${report.final_state} (${extra.endedBy}, ${(extra.durationMs / 1000).toFixed(1)} s)`,
  );
  const slots = Object.entries(report.slots);
  out.push(`slots: ${slots.length ? slots.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : 'none'}`);
  out.push(
    `records: ${report.records.length ? report.records.map((r) => `${r.type} ${JSON.stringify(r.data)}`).join('; ') : 'none'}`,
  );
  if (report.errors.length) {
    out.push(`errors (${report.errors.length}):`);
    for (const e of report.errors) out.push(`  ${e.error_type} [${e.severity}]: ${e.message}`);
  }
  out.push('', formatLatencyTable(report.latency));
  if (extra.failures) {
    out.push(
      '',
      extra.failures.length === 0
        ? 'expect: met'
        : `expect: NOT met\n${extra.failures.map((f) => `  - ${f}`).join('\n')}`,
    );
  }
  return out.join('\n');
}
