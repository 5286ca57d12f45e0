import type { ClockTime, IsoDate } from '../../../src/conversation/clock.js';
import { DEFAULT_ORGANIZATION_ID } from '../../../src/events/model.js';
import type { Booking, BookingStore, BookResult, NewBooking, RescheduleResult } from './store.js';

/**
 * In-memory BookingStore for tests and offline simulation. Same contract as the Postgres
 * store (one confirmed booking per slot, unique codes); ids are sequential and UUID-shaped so
 * runs are reproducible. `failNext` makes the next call throw (a database outage).
 */
export class FakeBookingStore implements BookingStore {
  readonly bookings: Booking[] = [];
  failNext: Error | null = null;
  private seq = 0;

  constructor(private readonly organizationId: string = DEFAULT_ORGANIZATION_ID) {}

  /** Adds a confirmed booking directly (test setup). */
  seed(b: Partial<Booking> & { date: IsoDate; time: ClockTime; confirmationCode: string }): Booking {
    const booking: Booking = {
      id: this.nextId(),
      organizationId: this.organizationId,
      conversationId: null,
      userName: null,
      type: null,
      contact: null,
      status: 'confirmed',
      ...b,
    };
    this.bookings.push(booking);
    return { ...booking };
  }

  async takenTimes(date: IsoDate, options: { exceptCode?: string } = {}): Promise<ClockTime[]> {
    this.maybeFail();
    return this.confirmed()
      .filter((b) => b.date === date && b.confirmationCode !== options.exceptCode)
      .map((b) => b.time)
      .sort();
  }

  async book(r: NewBooking): Promise<BookResult> {
    this.maybeFail();
    if (this.bookings.some((b) => b.confirmationCode === r.confirmationCode))
      return { ok: false, reason: 'duplicate_code' };
    if (this.slotTaken(r.date, r.time)) return { ok: false, reason: 'taken' };
    const booking = this.seed({
      conversationId: r.conversationId ?? null,
      userName: r.userName ?? null,
      date: r.date,
      time: r.time,
      type: r.type ?? null,
      contact: r.contact ?? null,
      confirmationCode: r.confirmationCode,
    });
    return { ok: true, booking };
  }

  async findByCode(code: string): Promise<Booking | null> {
    this.maybeFail();
    const b = this.bookings.find((x) => x.confirmationCode === code);
    return b ? { ...b } : null;
  }

  async reschedule(code: string, date: IsoDate, time: ClockTime): Promise<RescheduleResult> {
    this.maybeFail();
    const b = this.confirmed().find((x) => x.confirmationCode === code);
    if (!b) return { ok: false, reason: 'not_found' };
    if (this.slotTaken(date, time, code)) return { ok: false, reason: 'taken' };
    const previous = { ...b };
    b.date = date;
    b.time = time;
    return { ok: true, booking: { ...b }, previous };
  }

  async cancel(code: string): Promise<Booking | null> {
    this.maybeFail();
    const b = this.confirmed().find((x) => x.confirmationCode === code);
    if (!b) return null;
    b.status = 'cancelled';
    return { ...b };
  }

  private confirmed(): Booking[] {
    return this.bookings.filter((b) => b.status === 'confirmed');
  }

  private slotTaken(date: IsoDate, time: ClockTime, exceptCode?: string): boolean {
    return this.confirmed().some(
      (b) => b.date === date && b.time === time && b.confirmationCode !== exceptCode,
    );
  }

  private maybeFail(): void {
    const err = this.failNext;
    if (err) {
      this.failNext = null;
      throw err;
    }
  }

  private nextId(): string {
    this.seq++;
    return `00000000-0000-4000-8000-${String(this.seq).padStart(12, '0')}`;
  }
}
