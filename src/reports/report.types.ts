/** The JSON shape of a daily report (README: JSON API). Sizes in bytes, delays in milliseconds. */
export interface DailyReport {
  /** The calendar day, YYYY-MM-DD, in `timezone`. */
  date: string;
  timezone: string;
  totals: ReportTotals;
  /** 24 rows, hour 0 to 23 of the local day. */
  hourly: HourRow[];
  domains: DomainRow[];
  topSenders: AddressRow[];
  topRecipients: AddressRow[];
  topSendersBySize: AddressRow[];
  topRecipientsBySize: AddressRow[];
  problems: { deferred: ReasonRow[]; bounced: ReasonRow[]; rejected: ReasonRow[] };
  /** Notification channels that routing rules sent messages to that day: in no other total or list. */
  channels: ChannelRow[];
  warnings: EventRow[];
  errors: EventRow[];
}

export interface ReportTotals {
  /** Messages accepted at intake, Postroom's own notices left out (see notices). */
  received: number;
  /** Mail recipients delivered (a notification channel's post is counted in `posted`). */
  delivered: number;
  /** Messages posted to notification channels (routing rules' copies and escalations): in no other total. */
  posted: number;
  /** Messages deferred at least once that day. */
  deferred: number;
  /** Deferral outcomes (one per recipient per attempt). */
  deferrals: number;
  /** Recipients bounced. */
  bounced: number;
  /** Refusals at intake (connection, MAIL, RCPT, DATA; API and maildrop submissions). */
  rejected: number;
  /** Messages put on hold: by the alert-storm guard, by an operator, local mail waiting for an admin address. */
  held: number;
  /** Messages an operator deleted from the queue. */
  deleted: number;
  /** Postroom's own mail received: delivery status notices (bounces, delay warnings), storm digests, the daily report. */
  notices: number;
  /** Test emails (a diagnosis, not traffic: in no other total). */
  tests: number;
  bytesReceived: number;
  /** The size of a message once per recipient delivered. */
  bytesDelivered: number;
  /** Distinct envelope senders of received messages. */
  senders: number;
  /** Distinct client addresses of received messages. */
  sendingHosts: number;
  /** Distinct recipients delivered to. */
  recipients: number;
  /** Distinct domains delivered to. */
  recipientDomains: number;
}

export interface HourRow {
  hour: number;
  received: number;
  delivered: number;
  /** Deferrals in that hour. */
  deferred: number;
  bounced: number;
  rejected: number;
}

export interface DomainRow {
  domain: string;
  sent: number;
  bytes: number;
  deferrals: number;
  /** Of the deliveries; null when nothing was delivered to the domain. */
  avgDelayMs: number | null;
  maxDelayMs: number | null;
}

/** One notification channel's deliveries of the day. */
export interface ChannelRow {
  /** The channel's id (its queue recipient is channel:<id>). */
  id: number;
  /** Its name at its last attempt of the day. */
  name: string;
  posted: number;
  /** Attempts that will be tried again (a network error, 408, 429, 5xx). */
  deferrals: number;
  /** Messages the channel refused for good or that ran out of lifetime. */
  failed: number;
  /** The most frequent reason of its deferrals and failures, null when it had none. */
  problem: string | null;
}

export interface AddressRow {
  /** Lower-cased; '' is the null sender (<>). */
  address: string;
  count: number;
  bytes: number;
}

export interface ReasonRow {
  reason: string;
  count: number;
}

export interface EventRow {
  id: string;
  at: string;
  source: string;
  message: string;
}
