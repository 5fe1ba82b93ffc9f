import type { RuleMatch } from './rule-match.js';
import type { RuleWhen } from './rule.entity.js';

/** A routing rule as the API and the dashboard show it. */
export interface RuleView {
  id: string;
  name: string;
  enabled: boolean;
  /** 1 = evaluated first. */
  position: number;
  match: RuleMatch;
  channels: string[];
  channelNames: string[];
  when: RuleWhen;
  afterMinutes: number;
  updatedAt: string;
}
