import { describe, expect, it } from 'vitest';
import { BusinessHours } from '../../../agents/appointment-booking/index.js';
import {
  offsetMinutes,
  speakDate,
  speakTime,
  spokenTimes,
  zonedParts,
} from '../../../src/conversation/index.js';
import { NOW, TZ } from './helpers.js';

const hours = new BusinessHours({
  hours: { monday: ['09:00', '17:00'], tuesday: ['09:00', '17:00'], saturday: ['10:00', '12:00'] },
  slotMinutes: 30,
  closedDates: ['2025-03-11'],
  maxDaysAhead: 30,
  minNoticeMinutes: 60,
});

describe('BusinessHours', () => {
  it('refuses closed days, holidays, the past and the far future', () => {
    expect(hours.checkDate('2025-03-10', NOW, TZ)).toBeNull();
    expect(hours.checkDate('2025-03-09', NOW, TZ)).toBe("Sorry, we're closed on Sundays.");
    expect(hours.checkDate('2025-03-11', NOW, TZ)).toBe("Sorry, we're closed on Tuesday, March 11th.");
    expect(hours.checkDate('2025-03-04', NOW, TZ)).toBe('That date has already passed.');
    expect(hours.checkDate('2025-04-14', NOW, TZ)).toBe('We only take bookings up to 30 days ahead.');
  });

  it('checks times against the day, the slot grid, the last slot and the notice period', () => {
    expect(hours.checkTime('10:30', '2025-03-08', NOW, TZ)).toBeNull();
    expect(hours.checkTime('12:00', '2025-03-08', NOW, TZ)).toBe(
      "Sorry, we're open from 10 AM to noon on Saturdays.",
    );
    expect(hours.checkTime('10:15', '2025-03-10', NOW, TZ)).toMatch(/^Appointments start every 30 minutes/);
    expect(hours.checkTime('16:45', '2025-03-10', NOW, TZ)).toMatch(
      /^(The last appointment|Appointments start)/,
    );
    // Without a day: the widest opening hours.
    expect(hours.checkTime('08:00', undefined, NOW, TZ)).toBe("Sorry, we're open from 9 AM to 5 PM.");
  });

  it('lists slots, nearest alternatives and the next open day', () => {
    expect(hours.slots('2025-03-08', NOW, TZ)).toEqual(['10:00', '10:30', '11:00', '11:30']);
    expect(hours.alternatives('2025-03-10', '14:00', ['13:30', '14:30'], NOW, TZ)).toEqual([
      '13:00',
      '15:00',
    ]);
    expect(hours.nextOpenDay('2025-03-08', NOW, TZ)).toBe('2025-03-10');
    expect(hours.describe()).toBe('Monday and Tuesday 9 AM to 5 PM and Saturday 10 AM to noon');
  });

  it('today only offers slots after now plus the notice period', () => {
    const monday10 = new Date('2025-03-10T14:00:00Z'); // 10:00 EDT
    expect(hours.slots('2025-03-10', monday10, TZ)[0]).toBe('11:30');
    expect(hours.checkTime('11:00', '2025-03-10', monday10, TZ)).toBe('That time has already passed today.');
  });
});

describe('clock and speech helpers', () => {
  it('zoned parts and offsets across DST', () => {
    expect(zonedParts(NOW, TZ)).toMatchObject({
      year: 2025,
      month: 3,
      day: 5,
      hour: 10,
      minute: 0,
      weekday: 3,
    });
    expect(offsetMinutes(NOW, TZ)).toBe(-300);
    expect(offsetMinutes(new Date('2025-03-10T15:00:00Z'), TZ)).toBe(-240);
  });

  it('speaks dates and times the way TTS reads them well', () => {
    expect(speakDate('2025-03-22')).toBe('Saturday, March 22nd');
    expect(speakDate('2025-03-11')).toBe('Tuesday, March 11th');
    expect(speakTime('09:05')).toBe('9:05 AM');
    expect(speakTime('12:00')).toBe('noon');
    expect(speakTime('00:30')).toBe('12:30 AM');
    expect(spokenTimes('15:30')).toContain('three thirty p m');
    expect(spokenTimes('09:05')).toContain('nine oh five');
  });
});
