import { z } from 'zod';

/**
 * What a dispatch may tell a job (the dispatch rule's or `AgentDispatchClient`'s metadata, a
 * JSON object). Everything is optional: an inbound SIP call dispatched by `sip setup`'s rule
 * carries none and runs the configured FLOW.
 */
export const jobMetadataSchema = z.strictObject({
  flow: z.string().min(1).max(100).optional(),
  /** The flow's settings for this call (validated by the flow package's settings schema). */
  settings: z.record(z.string(), z.unknown()).optional(),
  /** The organization the call belongs to (an outbound or API-started call's route). */
  organization_id: z.uuid().optional(),
  /** Outbound call: the job dials this number through the outbound trunk, then runs the flow. */
  dial: z
    .strictObject({
      number: z.string().min(3).max(32),
      trunk_id: z.string().min(1).optional(),
      /** Give up ringing after this long (no answer → FAILED). */
      ring_timeout_s: z.number().int().positive().max(120).optional(),
      /** The organization's customer being called: the compliance check runs right before the dial. */
      customer_id: z.uuid().optional(),
    })
    .optional(),
  /** The call's clock for relative dates (tests). */
  now: z.iso.datetime({ offset: true }).optional(),
  /** The control plane's signature over dial/now (src/worker/dispatch-signature.ts). */
  auth: z
    .strictObject({
      v: z.literal(1),
      iat: z.number().int().nonnegative(),
      room: z.string().min(1).max(255),
      sig: z.string().min(1).max(128),
    })
    .optional(),
});

export type JobMetadata = z.infer<typeof jobMetadataSchema>;

export class JobMetadataError extends Error {
  override name = 'JobMetadataError';
}

export function parseJobMetadata(raw: string | undefined): JobMetadata {
  if (!raw || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new JobMetadataError('job metadata is not JSON');
  }
  const parsed = jobMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JobMetadataError(`job metadata: ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  return parsed.data;
}
