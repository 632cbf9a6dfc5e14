/**
 * Springest payloads (springest-certificates.txt). The doc lists the fields but its "Example return"
 * is empty, so the envelope is an assumption: `{"certificates": [...]}` (a bare array is accepted too).
 */
import { z } from 'zod';
import { httpUrl, secret } from '../../config/fields.ts';
import { resolvedConfigSchema } from '../provider.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'must be a date YYYY-MM-DD');

export const springestCertificateSchema = z.looseObject({
  id: z.union([z.number().int(), z.string().min(1)]),
  // "id • name • description": the certificate's own name, which is its certification's.
  name: z.string().nullish(),
  description: z.string().nullish(),
  certification_id: z.union([z.number().int(), z.string().min(1)]),
  valid_from: date.nullish(),
  valid_until: date.nullish(),
  // Listed without values in the doc; the simulator says "approved".
  status: z.string().nullish(),
  created_at: z.string(),
  user: z.looseObject({ email: z.string().nullish(), external_id: z.union([z.string(), z.number()]).nullish() }),
});

export const certificatesResponseSchema = z.union([
  z.looseObject({ certificates: z.array(springestCertificateSchema) }).transform((r) => r.certificates),
  z.array(springestCertificateSchema),
]);

export const certificationSchema = z.looseObject({
  id: z.union([z.number().int(), z.string().min(1)]),
  name: z.string(),
  description: z.string().nullish(),
  requires_valid_until: z.boolean().nullish(),
});

export const certificationsResponseSchema = z.union([
  z.looseObject({ certifications: z.array(certificationSchema) }).transform((r) => r.certifications),
  z.array(certificationSchema),
]);

export const postCertificateResponseSchema = z.looseObject({ certificate: springestCertificateSchema.partial({ created_at: true }) });

export type SpringestCertificate = z.output<typeof springestCertificateSchema>;
export type SpringestCertification = z.output<typeof certificationSchema>;

/** A Springest source's own keys in certhub.yaml. */
export const springestSettings = {
  base_url: httpUrl(),
  api_key: secret(),
  // Only `GET /certifications` needs it (springest-certificates.txt); pulling and pushing do not.
  certifications_api_key: secret().optional(),
};

/** The resolved source the connector is given (other keys pass through). */
export const springestConfigSchema = resolvedConfigSchema(springestSettings);
export type SpringestConfig = z.output<typeof springestConfigSchema>;
