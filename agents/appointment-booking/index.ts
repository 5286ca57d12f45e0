import { defineFlowPackage, domainLanguage } from '../../src/conversation/index.js';
import { bookingDemo } from './demo.js';
import { createAppointmentBookingFlow } from './flow.js';
import { bookingRecords } from './records.js';
import { type BookingResources, bookingResources } from './resources.js';
import { bookingScripts } from './scripts.js';
import { type BookingSettings, bookingSettings } from './settings.js';

/** Appointment booking by phone: book, reschedule, cancel, rate the call. */
export const appointmentBooking = defineFlowPackage<BookingSettings, BookingResources>({
  name: 'appointment-booking',
  description: 'Books, reschedules and cancels appointments; asks the caller to rate the call.',
  settings: bookingSettings,
  resources: bookingResources,
  createFlow: ({ settings, resources, defaultTimeZone }) =>
    createAppointmentBookingFlow({
      ...(defaultTimeZone ? { timeZone: defaultTimeZone } : {}),
      ...(settings as Omit<BookingSettings, 'country'>),
      ...(settings.country ? { country: settings.country as never } : {}),
      store: resources.store,
    }),
  records: bookingRecords,
  vocabulary: domainLanguage,
  scripts: bookingScripts,
  demo: bookingDemo,
  archive: [{ key: 'feedback', table: 'user_feedback', orderBy: 't.created_at' }],
  personalData: [
    {
      // A booking outlives its caller's erasure: the slot stays taken, the person goes.
      table: 'appointments',
      conversationColumn: 'conversation_id',
      contactColumn: 'contact_info',
      sealed: [{ column: 'contact_info', kind: 'text' }],
      erase: { anonymize: ['user_name', 'contact_info', 'metadata'] },
    },
    { table: 'user_feedback', conversationColumn: 'conversation_id', erase: 'delete' },
  ],
});

export default appointmentBooking;
export { BusinessHours, type BusinessHoursConfig, DEFAULT_HOURS } from './business-hours.js';
export { type BookingData, type BookingSlots, createDesk } from './desk.js';
export { createAppointmentBookingFlow } from './flow.js';
export { type AppointmentBookingOptions, DEFAULT_APPOINTMENT_TYPES, resolveOptions } from './options.js';
export { appointmentRecord, feedbackRecord } from './records.js';
export type { BookingResources } from './resources.js';
export { bookingSlots } from './slots.js';
export { FakeBookingStore } from './store/fake-store.js';
export { PgBookingStore, type PgBookingStoreOptions } from './store/pg-store.js';
export {
  type Booking,
  type BookingStatus,
  type BookingStore,
  type BookResult,
  bookWithFreshCode,
  type NewBooking,
  type RescheduleResult,
} from './store/store.js';
export { APPOINTMENT_BOOKING_LANGUAGE } from './vocabulary.js';
