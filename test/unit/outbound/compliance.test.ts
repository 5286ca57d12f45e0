import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zonedParts } from '../../../src/conversation/clock.js';
import { checkCompliance } from '../../../src/outbound/compliance/check.js';
import { type ComplianceContact, contactSchema } from '../../../src/outbound/compliance/contact.js';
import { ComplianceRuleError, parseComplianceRules } from '../../../src/outbound/compliance/rules.js';

const contact = (fields: Record<string, unknown> = {}): ComplianceContact =>
  contactSchema.parse({ timezone: 'America/Chicago', ...fields });
const at = (iso: string) => new Date(iso);
const weekdays = parseComplianceRules([
  {
    name: 'business hours',
    rule_type: 'time_restriction',
    condition: {
      start: '09:00',
      end: '18:00',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      timezone: 'contact',
    },
    action: 'block_contact',
    severity: 'high',
  },
  {
    name: 'three calls a week',
    rule_type: 'frequency_limit',
    condition: { max_attempts: 3, window_days: 7, channel: 'phone' },
    action: 'block_contact',
  },
]);

describe('compliance check (seed 004 rules, checked before every dial)', () => {
  it('uses 08:00–21:00 in the customer zone when no rule sets calling hours, and says when the window opens', () => {
    // 07:30 in Chicago (UTC−6 in December).
    const early = checkCompliance(contact(), [], { at: at('2026-12-07T13:30:00Z') });
    expect(early).toMatchObject({
      allowed: false,
      blocked_by: ['default_calling_hours'],
      next_allowed_at: '2026-12-07T14:00:00.000Z',
    });
    expect(early.violations[0]!.reason).toMatch(/outside 08:00–21:00 every day in America\/Chicago/);
    expect(checkCompliance(contact(), [], { at: at('2026-12-07T15:00:00Z') })).toMatchObject({
      allowed: true,
      blocked_by: [],
      next_allowed_at: '2026-12-07T15:00:00.000Z',
    });
  });

  it("applies a rule's own days and hours instead, and the customer's preferred window on top", () => {
    // Saturday noon in Chicago: the rule allows Monday 09:00 at the earliest.
    const saturday = checkCompliance(contact(), weekdays, { at: at('2026-12-12T18:00:00Z') });
    expect(saturday).toMatchObject({ allowed: false, blocked_by: ['business hours'] });
    expect(saturday.next_allowed_at).toBe('2026-12-14T15:00:00.000Z');
    const preferring = contact({
      preferred_contact_time_start: '16:00',
      preferred_contact_time_end: '17:30',
    });
    const monday = checkCompliance(preferring, weekdays, { at: at('2026-12-14T15:00:00Z') });
    expect(monday).toMatchObject({ allowed: false, blocked_by: ['preferred_contact_window'] });
    expect(monday.next_allowed_at).toBe('2026-12-14T22:00:00.000Z');
  });

  it('counts prior attempts: the fourth call in seven days waits until the oldest leaves the window', () => {
    const attempts = ['2026-12-01T16:00:00Z', '2026-12-03T16:00:00Z', '2026-12-04T16:00:00Z'].map(
      (timestamp) => ({
        channel: 'phone',
        status: 'answered',
        timestamp,
      }),
    );
    const decision = checkCompliance(contact({ contact_attempts: attempts }), weekdays, {
      at: at('2026-12-07T16:00:00Z'),
    });
    expect(decision).toMatchObject({ allowed: false, blocked_by: ['three calls a week'] });
    expect(decision.violations[0]!.reason).toBe('3 phone attempts in the last 7 days (at most 3)');
    expect(decision.next_allowed_at).toBe('2026-12-08T16:00:00.001Z');
    // SMS attempts do not count against a phone limit.
    const sms = attempts.map((attempt) => ({ ...attempt, channel: 'sms' }));
    expect(
      checkCompliance(contact({ contact_attempts: sms }), weekdays, { at: at('2026-12-07T16:00:00Z') })
        .allowed,
    ).toBe(true);
  });

  it('never calls a customer who opted out for good or is marked do not contact; a temporary opt-out expires', () => {
    const forGood = contact({ opt_outs: [{ channel: 'all', opted_out_at: '2026-11-01T00:00:00Z' }] });
    expect(checkCompliance(forGood, [], { at: at('2026-12-07T16:00:00Z') })).toMatchObject({
      allowed: false,
      blocked_by: ['opt_out'],
      next_allowed_at: null,
    });
    const paused = contact({
      opt_outs: [
        { channel: 'phone', opted_out_at: '2026-12-01T00:00:00Z', expires_at: '2026-12-10T00:00:00Z' },
      ],
    });
    const decision = checkCompliance(paused, [], { at: at('2026-12-07T16:00:00Z') });
    expect(decision.blocked_by).toEqual(['opt_out']);
    // Expires at 18:00 Chicago time, inside the default window.
    expect(decision.next_allowed_at).toBe('2026-12-10T00:00:00.000Z');
    expect(checkCompliance(paused, [], { at: at('2026-12-07T16:00:00Z'), channel: 'email' }).allowed).toBe(
      true,
    );
    expect(
      checkCompliance(contact({ do_not_contact: true }), [], { at: at('2026-12-07T16:00:00Z') }),
    ).toMatchObject({
      blocked_by: ['do_not_contact'],
      next_allowed_at: null,
    });
  });

  it('blocks a channel the rules or the customer restrict, warns, escalates and asks for approval as the rule says', () => {
    const rules = parseComplianceRules([
      {
        name: 'no sms',
        rule_type: 'channel_restriction',
        condition: { blocked_channels: ['sms'] },
        action: 'block_contact',
      },
      {
        name: 'late calls need approval',
        rule_type: 'time_restriction',
        condition: { start: '08:00', end: '19:00', timezone: 'contact' },
        action: 'require_approval',
      },
      {
        name: 'busy week',
        rule_type: 'frequency_limit',
        condition: { max_attempts: 1, window_days: 7 },
        action: 'log_warning',
      },
      {
        name: 'disabled',
        rule_type: 'channel_restriction',
        condition: { blocked_channels: ['phone'] },
        action: 'block_contact',
        is_enabled: false,
      },
    ]);
    const someone = contact({
      contact_restrictions: ['email'],
      contact_attempts: [{ channel: 'phone', status: 'failed', timestamp: '2026-12-06T16:00:00Z' }],
    });
    const evening = checkCompliance(someone, rules, { at: at('2026-12-08T02:00:00Z') }); // 20:00 Chicago
    expect(evening).toMatchObject({
      allowed: false,
      // 20:00 is inside the default 08:00–21:00, which still applies: the approval rule blocks nothing.
      blocked_by: [],
      approval_required: ['late calls need approval'],
    });
    expect(evening.warnings).toEqual(['busy week: 1 contact attempt in the last 7 days (at most 1)']);
    expect(
      checkCompliance(someone, rules, { at: at('2026-12-07T16:00:00Z'), channel: 'sms' }).blocked_by,
    ).toEqual(['no sms']);
    expect(
      checkCompliance(someone, rules, { at: at('2026-12-07T16:00:00Z'), channel: 'email' }).blocked_by,
    ).toEqual(['contact_restrictions']);
  });

  it('cannot place a customer without a known zone in any window, and refuses malformed or unknown rules', () => {
    const nowhere = contactSchema.parse({});
    expect(checkCompliance(nowhere, [], { at: at('2026-12-07T16:00:00Z') })).toMatchObject({
      allowed: false,
      blocked_by: ['default_calling_hours'],
      next_allowed_at: null,
    });
    expect(() =>
      parseComplianceRules([{ name: 'x', rule_type: 'moon_phase', condition: {}, action: 'block_contact' }]),
    ).toThrow(/rule "x": unknown rule_type \(known: time_restriction/);
    expect(() =>
      parseComplianceRules([
        {
          name: 'y',
          rule_type: 'time_restriction',
          condition: { start: '8am', end: '21:00' },
          action: 'block_contact',
        },
      ]),
    ).toThrow(ComplianceRuleError);
    expect(() =>
      parseComplianceRules([
        {
          name: 'z',
          rule_type: 'time_restriction',
          condition: { start: '08:00', end: '21:00', timezone: 'Mars/Base' },
          action: 'block_contact',
        },
      ]),
    ).toThrow(/IANA time zone/);
  });
});

// Zones with daylight-saving changes on both hemispheres, and one without.
const zones = fc.constantFrom(
  'America/New_York',
  'Europe/Stockholm',
  'Australia/Sydney',
  'America/Phoenix',
  'Asia/Kolkata',
);
const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([hours, minutes]) => `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`);
// Around the 2026 changes (March/April and October/November) and between them.
const instants = fc.integer({
  min: Date.parse('2026-03-01T00:00:00Z'),
  max: Date.parse('2026-11-30T00:00:00Z'),
});

function localMinute(instant: Date, zone: string): number {
  const parts = zonedParts(instant, zone);
  return parts.hour * 60 + parts.minute;
}
const minutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

describe('compliance properties (fast-check)', () => {
  it('never allows a dial outside the window in the customer zone, across DST; next_allowed_at is allowed', () => {
    fc.assert(
      fc.property(zones, clock, clock, instants, (zone, start, end, when) => {
        fc.pre(minutes(start) < minutes(end));
        const rules = parseComplianceRules([
          {
            name: 'window',
            rule_type: 'time_restriction',
            condition: { start, end, timezone: 'contact' },
            action: 'block_contact',
          },
        ]);
        const customer = contact({ timezone: zone });
        const decision = checkCompliance(customer, rules, { at: new Date(when) });
        const minute = localMinute(new Date(when), zone);
        expect(decision.allowed).toBe(minute >= minutes(start) && minute < minutes(end));
        expect(decision.next_allowed_at).not.toBeNull();
        const next = new Date(decision.next_allowed_at!);
        expect(next.getTime()).toBeGreaterThanOrEqual(when);
        expect(checkCompliance(customer, rules, { at: next }).allowed).toBe(true);
        // Nothing earlier was allowed: a minute before the answer is still blocked.
        if (next.getTime() - 60_000 >= when)
          expect(checkCompliance(customer, rules, { at: new Date(next.getTime() - 60_000) }).allowed).toBe(
            false,
          );
      }),
      { numRuns: 300 },
    );
  });

  it('a dialler that follows the check never exceeds the frequency limit, never dials outside hours or an opted-out customer', () => {
    fc.assert(
      fc.property(
        zones,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 10 }),
        instants,
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        (zone, maxAttempts, windowDays, start, optOutAfterDays) => {
          const rules = parseComplianceRules([
            {
              name: 'limit',
              rule_type: 'frequency_limit',
              condition: { max_attempts: maxAttempts, window_days: windowDays, channel: 'phone' },
              action: 'block_contact',
            },
          ]);
          const optOutAt = optOutAfterDays === undefined ? undefined : start + optOutAfterDays * 86_400_000;
          const dials: number[] = [];
          let now = start;
          // A dialler that retries as soon as it may, for 60 days.
          while (now < start + 60 * 86_400_000 && dials.length < 200) {
            const customer = contact({
              timezone: zone,
              contact_attempts: dials.map((t) => ({
                channel: 'phone',
                status: 'no_answer',
                timestamp: new Date(t).toISOString(),
              })),
              opt_outs: optOutAt
                ? [{ channel: 'phone', opted_out_at: new Date(optOutAt).toISOString() }]
                : [],
            });
            const decision = checkCompliance(customer, rules, { at: new Date(now) });
            if (decision.allowed) {
              dials.push(now);
              now += 60_000;
            } else if (decision.next_allowed_at) now = Date.parse(decision.next_allowed_at);
            else break;
          }
          for (const dial of dials) {
            const minute = localMinute(new Date(dial), zone);
            expect(minute >= 8 * 60 && minute < 21 * 60).toBe(true);
            expect(
              dials.filter((t) => t <= dial && t > dial - windowDays * 86_400_000).length,
            ).toBeLessThanOrEqual(maxAttempts);
            if (optOutAt !== undefined) expect(dial).toBeLessThan(optOutAt);
          }
          expect(dials.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
