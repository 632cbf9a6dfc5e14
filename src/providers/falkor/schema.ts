/**
 * Falkor payloads as documented in story-certificates.txt (provider-docs). Parsing never rewrites a
 * value: the parsed item is kept as the certificate's `raw`, so it must stay what Falkor sent.
 */
import { z } from 'zod';
import { httpUrl, secret } from '../../config/fields.ts';
import { resolvedConfigSchema } from '../provider.ts';

export const STORY_TYPES = ['story', 'assessment', 'survey', 'scorm'] as const;
export type StoryType = (typeof STORY_TYPES)[number];

/**
 * The table says `story.type` is "Enum (story, assessment, survey, scorm)", the doc's own example prints
 * "Story" (and SCORM is an acronym): any letter case is accepted here and lower-cased by normalize.
 */
export const storyTypeSchema = z
  .string()
  .refine((t) => (STORY_TYPES as readonly string[]).includes(t.toLowerCase()), { error: 'must be one of story, assessment, survey, scorm (any case)' });

// The table types every user field as String; the example sends `"telephone": ""`. A real account may
// leave fields out or send null for learners without them, so all user fields are tolerated as absent.
const userField = z.string().nullish();

export const storyCertificateItemSchema = z.looseObject({
  firstname: userField,
  lastname: userField,
  email: userField,
  telephone: userField,
  country: userField,
  city: userField,
  certificate: z.looseObject({
    // "certificate.timestamp String": the example is ISO-8601 with an offset (`2021-09-28T11:14:23+02:00`).
    timestamp: z.string(),
    // "certificate.state Enum (pending, delivered)".
    state: z.enum(['pending', 'delivered']),
    // "certificate.url String (Permalink of the certificate)": certificates carry no id, so this is the key.
    url: z.string().min(1),
  }),
});

export const storySchema = z.looseObject({
  // "story.ID String" - NOT unique: the example gives "Story A" and "Story B" the same ID.
  ID: z.string(),
  name: z.string(),
  type: storyTypeSchema,
});

export const storyBlockSchema = z.looseObject({
  story: storySchema,
  certificates: z.array(storyCertificateItemSchema),
});

export const storyCertificatesResponseSchema = z.looseObject({
  status: z.literal('success'),
  data: z.array(storyBlockSchema),
  // Shown in every example: a digest of the answer that lets an unchanged result be skipped (DESIGN.md,
  // provider facts). Tolerated as absent: then nothing is ever skipped.
  hash: z.string().min(1).optional(),
  response_time: z.number().optional(),
});

/** The error body (not in the doc; what Falkor answers with 4xx, and what a 200 might carry): `{"status":"error","message"}`. */
export const falkorErrorSchema = z.looseObject({ status: z.literal('error'), message: z.string().optional() });

/** Request body: "All parameters are optional and if none are provided all stories, users and groups will be called." */
export interface StoryCertificatesFilters {
  /** ID or name of an app. */
  app?: string;
  /** ID or name of a story. */
  story?: string;
  /** Group names. */
  groups?: string[];
  /** Names or emails. */
  users?: string[];
}

export type Story = z.output<typeof storySchema>;
export type StoryCertificateItem = z.output<typeof storyCertificateItemSchema>;
export type StoryBlock = z.output<typeof storyBlockSchema>;
export type StoryCertificatesResponse = z.output<typeof storyCertificatesResponseSchema>;

/** A Falkor source's own keys in certhub.yaml. */
export const falkorSettings = { base_url: httpUrl(), token: secret() };

/** The resolved source the connector is given (other keys such as sync_every_ms or tenant pass through untouched). */
export const falkorConfigSchema = resolvedConfigSchema(falkorSettings);
export type FalkorConfig = z.output<typeof falkorConfigSchema>;
