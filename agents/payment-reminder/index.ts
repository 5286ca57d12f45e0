import { fileURLToPath } from 'node:url';
import { defineFlowPackage, domainLanguage } from '../../src/conversation/index.js';
import { DEFAULT_ORGANIZATION_ID } from '../../src/events/model.js';
import { campaignCommands } from './commands.js';
import { createPaymentReminderFlow } from './flow.js';
import { reminderRecords } from './records.js';
import { type ReminderResources, reminderResources } from './resources.js';
import { reminderScripts } from './scripts.js';
import { type ReminderSettings, reminderSettings } from './settings.js';

/** Payment-reminder calls of escalation campaigns (seed 004). */
export const paymentReminder = defineFlowPackage<ReminderSettings, ReminderResources>({
  name: 'payment-reminder',
  description:
    'Confirms the person, reminds them of an invoice and takes a payment, a promise, a dispute or an opt-out.',
  settings: reminderSettings,
  resources: reminderResources,
  createFlow: ({ settings, resources, defaultTimeZone, organizationId }) =>
    createPaymentReminderFlow(
      {
        ...settings,
        ...(settings.timeZone || defaultTimeZone ? { timeZone: settings.timeZone ?? defaultTimeZone } : {}),
      },
      { store: resources.store, organizationId: organizationId ?? DEFAULT_ORGANIZATION_ID },
    ),
  migrations: fileURLToPath(new URL('./migrations/', import.meta.url)),
  records: reminderRecords,
  vocabulary: domainLanguage,
  scripts: reminderScripts,
  commands: campaignCommands,
  personalData: [{ table: 'payment_records', erase: { anonymize: ['description', 'metadata'] } }],
});

export default paymentReminder;
