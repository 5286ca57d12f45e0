import type { CountryCode } from 'libphonenumber-js';
import { type BusinessHoursConfig, DEFAULT_HOURS } from './business-hours.js';
import type { BookingStore } from './store/store.js';

export interface AppointmentBookingOptions {
  /** Where bookings live: PgBookingStore in production, FakeBookingStore in tests. */
  store: BookingStore;
  businessName?: string;
  /** IANA zone of the business: "tomorrow at 3" and opening hours are in it. */
  timeZone?: string;
  hours?: BusinessHoursConfig;
  /** Appointment type → words callers use for it. */
  appointmentTypes?: Record<string, readonly string[]>;
  /** Default country for phone numbers said without a country code. */
  country?: CountryCode;
  /** Hand over to a human (instead of hanging up) when the caller keeps failing. */
  transferOnFallback?: boolean;
}

export type ResolvedOptions = Required<AppointmentBookingOptions>;

export const DEFAULT_APPOINTMENT_TYPES: Record<string, readonly string[]> = {
  checkup: ['check up', 'check-up', 'physical', 'routine', 'annual exam', 'exam'],
  cleaning: ['clean', 'teeth cleaning', 'hygiene', 'hygienist'],
  consultation: ['consult', 'new patient', 'first visit', 'talk to the doctor'],
  follow_up: ['follow up', 'followup', 'follow-up', 'results', 'review'],
};

export function resolveOptions(o: AppointmentBookingOptions): ResolvedOptions {
  if (!o?.store) throw new TypeError('appointment-booking needs a BookingStore (options.store)');
  return {
    store: o.store,
    businessName: o.businessName ?? 'Riverside Clinic',
    timeZone: o.timeZone ?? 'America/New_York',
    hours: o.hours ?? DEFAULT_HOURS,
    appointmentTypes: o.appointmentTypes ?? DEFAULT_APPOINTMENT_TYPES,
    country: o.country ?? 'US',
    transferOnFallback: o.transferOnFallback ?? false,
  };
}
