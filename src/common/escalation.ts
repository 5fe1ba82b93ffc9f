/**
 * What an `undelivered` routing rule leaves on a message (message.escalation): the channels to
 * add to its recipients once mail has not delivered it `afterMinutes` after it arrived (0: at
 * the first failed attempt), or has bounced it. Delivery takes each step once.
 */
export interface EscalationStep {
  channels: number[];
  afterMinutes: number;
  /** The rule's name, for the mail log and the events. */
  rule: string;
}
