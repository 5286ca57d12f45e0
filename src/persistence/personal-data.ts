import { findPhoneNumbersInText } from 'libphonenumber-js';
import { PiiKeyRing } from './pii.js';

/**
 * Personal data at the durable boundary: whatever flow produced an event, the persister masks
 * phone numbers in turn text and seals sensitive slot values and contact fields before a row
 * is written, so no flow can forget to. Masking keeps the last two digits (support can still
 * tell "the number ending 00" apart) and the text's shape.
 */

const MASK = '•';
/** 7+ digits, possibly grouped by spaces, dots, dashes or parentheses, optionally with +. */
const DIGIT_RUN = /\+?\d(?:[\s().-]{0,3}\d){6,}/g;
const DIGIT_WORDS = 'zero|oh|one|two|three|four|five|six|seven|eight|nine';
/** Read-backs spell numbers out ("five five five, zero one zero, two zero zero zero"). */
const SPOKEN_RUN = new RegExp(`\\b(?:${DIGIT_WORDS})(?:[\\s,.-]+(?:${DIGIT_WORDS})){6,}\\b`, 'gi');
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Slot names that hold personal data whatever their value looks like. */
const SENSITIVE_SLOT = /phone|mobile|contact|pin|account|card|iban|ssn|social|birth|dob|passport|password/i;

function maskDigits(run: string): string {
  const total = run.replace(/\D/g, '').length;
  let seen = 0;
  return run.replace(/\d/g, (d) => (++seen > total - 2 ? d : MASK));
}

/** `text` with every phone-number-like run masked (digits and spelled-out digits). */
export function maskPhoneNumbers(text: string): string {
  if (!text) return text;
  let out = text;
  // Well-formed numbers libphonenumber recognizes first (international formats), longest first.
  const found = findPhoneNumbersInText(out, 'US').sort((a, b) => b.startsAt - a.startsAt);
  for (const f of found)
    out = out.slice(0, f.startsAt) + maskDigits(out.slice(f.startsAt, f.endsAt)) + out.slice(f.endsAt);
  out = out.replace(DIGIT_RUN, (run) => (ISO_DATE.test(run) ? run : maskDigits(run)));
  return out.replace(SPOKEN_RUN, (run) => {
    const words = run.split(/[\s,.-]+/);
    return [...words.slice(0, -2).map(() => MASK), ...words.slice(-2)].join(' ');
  });
}

/** Keypad digits are recorded masked unless the state marked them a menu choice. */
export function maskKeypad(digits: string): string {
  return digits.replace(/[0-9*#]/g, MASK);
}

export function isSensitiveSlot(name: string, value: string, flagged?: boolean): boolean {
  return flagged === true || SENSITIVE_SLOT.test(name) || maskPhoneNumbers(value) !== value;
}

interface TurnLike {
  text: string;
  transcribed_text?: string | undefined;
  llm_response?: string | undefined;
  metadata?: unknown;
}

function isMenuChoice(metadata: unknown): boolean {
  return (metadata as { menu_choice?: unknown } | undefined)?.menu_choice === true;
}

/**
 * A turn as it may be stored: keypad input masked (unless a menu choice), numbers masked.
 * A keypad turn is one with `metadata.input: 'dtmf'` (engine) or `metadata.dtmf` (simulator).
 */
export function protectTurn<T extends TurnLike>(turn: T): T {
  const meta = turn.metadata as { input?: unknown; dtmf?: unknown } | undefined;
  const keypad = meta?.input === 'dtmf' || typeof meta?.dtmf === 'string';
  if (keypad && !isMenuChoice(turn.metadata)) {
    return {
      ...turn,
      text: maskKeypad(turn.text),
      ...(turn.transcribed_text ? { transcribed_text: maskKeypad(turn.transcribed_text) } : {}),
      ...(typeof meta?.dtmf === 'string' ? { metadata: { ...meta, dtmf: maskKeypad(meta.dtmf) } } : {}),
    };
  }
  return {
    ...turn,
    text: maskPhoneNumbers(turn.text),
    ...(turn.transcribed_text !== undefined
      ? { transcribed_text: maskPhoneNumbers(turn.transcribed_text) }
      : {}),
    ...(turn.llm_response !== undefined ? { llm_response: maskPhoneNumbers(turn.llm_response) } : {}),
  };
}

/** Sensitive slot values are sealed with the key ring (`enc2:<key id>:…`); others pass through. */
export function protectSlotValue(ring: PiiKeyRing, name: string, value: string, flagged?: boolean): string {
  if (PiiKeyRing.isSealedText(value)) return value;
  return isSensitiveSlot(name, value, flagged) ? ring.sealText(value) : value;
}

/** Contact fields are always sealed (they exist to hold a number or an address). */
export function sealContact(ring: PiiKeyRing, contact: string | undefined | null): string | undefined {
  if (!contact) return undefined;
  return PiiKeyRing.isSealedText(contact) ? contact : ring.sealText(contact);
}

/** Lifecycle steps: a keypad digit (`dtmf_received`) is recorded masked. */
export function protectLifecycleData(eventType: string, data: unknown): unknown {
  if (eventType !== 'dtmf_received' || !data || typeof data !== 'object') return data;
  const d = data as Record<string, unknown>;
  return typeof d.digit === 'string' ? { ...d, digit: maskKeypad(d.digit) } : d;
}
