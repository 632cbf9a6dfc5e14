/** Falkor story certificates -> normalized certificates and catalog achievements (pure, tested on fixtures). */
import type { Achievement, NormalizedCertificate } from '../../domain/certificate.ts';
import type { CatalogAchievement } from '../provider.ts';
import type { Story, StoryCertificateItem, StoryType } from './schema.ts';
import { calendarDate, FALKOR_TIME_ZONE, parseFalkorTimestamp, toIsoUtc } from './time.ts';

export interface FalkorNormalizeContext {
  /** The story block the item was listed under. */
  story: Story;
  /** Zone for zone-less timestamps and for `valid_from`'s calendar day. Default Europe/Oslo. */
  timeZone?: string;
}

/** Story IDs repeat across stories (the doc's own example), so the achievement key is ID + name. */
export function storyAchievementId(story: Story): string {
  return `${story.ID}:${story.name}`;
}

/** "Story" / "SCORM" as served -> the documented lower-case enum (the schema accepted only those, in any case). */
export function storyType(story: Story): StoryType {
  return story.type.toLowerCase() as StoryType;
}

export function toAchievement(story: Story): Achievement {
  return { type: storyType(story), external_id: storyAchievementId(story), title: story.name, code: story.ID };
}

export function toStoryAchievement(story: Story): CatalogAchievement {
  return toAchievement(story);
}

const blankToNull = (v: string | null | undefined): string | null => (v === undefined || v === null || v.trim() === '' ? null : v);

export function toCertificate(item: StoryCertificateItem, ctx: FalkorNormalizeContext): NormalizedCertificate {
  const { certificate } = item;
  const timeZone = ctx.timeZone ?? FALKOR_TIME_ZONE;
  const at = parseFalkorTimestamp(certificate.timestamp, timeZone);
  return {
    // "certificate.url (Permalink of the certificate)": the only stable key a Falkor certificate has.
    external_id: certificate.url,
    // pending -> delivered is a change like any other: the store keeps the history.
    status: certificate.state === 'delivered' ? 'awarded' : 'pending',
    // As Falkor spells it (stray spaces and letter case included): identity resolution normalizes emails.
    subject: {
      provider_user_id: null,
      email: blankToNull(item.email),
      first_name: blankToNull(item.firstname),
      last_name: blankToNull(item.lastname),
      date_of_birth: null,
    },
    achievement: toAchievement(ctx.story),
    issued_at: at === null ? null : toIsoUtc(at),
    // Falkor has no validity period: a certificate counts from the (Norwegian) day it was issued.
    valid_from: at === null ? null : calendarDate(at, timeZone),
    valid_until: null,
    serial: null,
    // The permalink is the PDF itself.
    file: { available: true },
    // The story goes with the item: a renamed story changes the certificate's achievement, so it must change its hash.
    raw: { story: ctx.story, certificate: item },
  };
}
