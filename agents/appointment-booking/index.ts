export { type BookingData, type BookingSlots, createDesk } from './desk.js';
export { createAppointmentBookingFlow } from './flow.js';
export { type AppointmentBookingOptions, DEFAULT_APPOINTMENT_TYPES, resolveOptions } from './options.js';
export { bookingSlots } from './slots.js';
