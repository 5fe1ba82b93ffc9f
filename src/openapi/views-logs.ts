import { NOTICE_KINDS } from '../mail-log/mail-log.entity.js';
import { z } from 'zod';
import { EVENT_LEVELS, EVENT_SOURCES } from '../events/event.entity.js';
import { MAIL_LOG_EVENTS } from '../mail-log/mail-log.service.js';
import { dateTime, page, whole } from './views-common.js';


/** The mail log's and the event log's answers (mail-log.service.ts, event-log.service.ts). */
export function logViews() {
  const MailLogEntry = z
    .strictObject({
      id: z.string(),
      at: dateTime(),
      queueId: z.string().nullable(),
      messageId: z.string().nullable(),
      event: z.enum(MAIL_LOG_EVENTS),
      from: z.string(),
      to: z.string(),
      originalTo: z.string().nullable().describe('The recipient(s) as given, when intake rewrote them (an alias, the admin address)'),
      relay: z.string().nullable().describe('host:port'),
      size: whole().describe('Bytes'),
      delayMs: whole().nullable(),
      attempt: whole().nullable(),
      reply: z.string().nullable(),
      clientAddress: z.string().nullable(),
      subject: z.string().nullable(),
      detail: z.string().nullable().describe("A refusal's stage, a hold's reason, the operator of a release or delete"),
      notice: z.enum(NOTICE_KINDS).nullable().describe("Postroom's own mail (on its received line)"),
    })
    .describe('A mail-log entry');
  const Event = z
    .strictObject({
      id: z.string(),
      at: dateTime(),
      level: z.enum(EVENT_LEVELS),
      source: z.string().describe(`Where it happened: ${EVENT_SOURCES.join(', ')}`),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    })
    .describe('A system event');
  return {
    MailLogEntry,
    MailLogPage: page(MailLogEntry).describe('A page of the mail log, newest first'),
    Event,
    EventPage: page(Event).describe('A page of the event log, newest first'),
  };
}
