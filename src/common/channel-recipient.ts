/**
 * A notification channel as a recipient of a queued message: `channel:<id>`. Only routing
 * rules add one (it is no mail address, so no client can name it); delivery sends it to the
 * channel instead of a relay, with the same lease, backoff, lifetime and mail-log lines.
 */
const PREFIX = 'channel:';

export const channelRecipient = (id: number): string => `${PREFIX}${id}`;

/** The channel's id of a channel recipient, or null for a mail address. */
export function channelIdOf(recipient: string): number | null {
  if (!recipient.startsWith(PREFIX)) return null;
  const id = Number(recipient.slice(PREFIX.length));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

export const isChannelRecipient = (recipient: string): boolean => channelIdOf(recipient) !== null;

/**
 * The test in SQL, for a column that holds one recipient (a mail-log delivery line): no mail
 * address starts so (a colon in a local part is quoted). The partial index mail_log_channel_at
 * is on exactly `recipient LIKE 'channel:%'`.
 */
export const channelRecipientSql = (column: string): string => `${column} LIKE '${PREFIX}%'`;
