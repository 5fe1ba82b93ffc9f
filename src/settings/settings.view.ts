import { effectivePort } from '../relays/relay-address.js';
import { SECRET_COLUMNS, type SecretField } from '../relays/relay-secrets.js';
import type { RelayEntity } from '../relays/relay.entity.js';
import { type SettingsValues, VALUE_FIELDS } from './settings-fields.js';
import type { SettingsEntity } from './settings.entity.js';

/**
 * The settings as the API shows them: every field of the description with its value — those of
 * the primary relay from its row — and of a secret only whether one is set.
 */
export type SettingsView = SettingsValues & { [F in SecretField as `${F}Set`]: boolean } & {
  /** The port the primary relay is reached on (relayPort, or the security mode's default). */
  effectivePort: number;
  /** Write-only fields whose stored value this SECRET_KEY cannot decrypt: they have to be entered again. */
  secretsUnreadable: SecretField[];
  /** When the settings or the primary relay last changed. */
  updatedAt: string;
};

export function toSettingsView(s: SettingsEntity, primary: RelayEntity, secretsUnreadable: SecretField[]): SettingsView {
  const view: Record<string, unknown> = {};
  for (const f of VALUE_FIELDS) {
    if (f.kind === 'secret') view[`${f.name}Set`] = primary[SECRET_COLUMNS[f.name]] !== null;
    else view[f.name] = f.relay ? primary[f.relay] : (s as unknown as Record<string, unknown>)[f.name];
  }
  const updated = Math.max(new Date(s.updatedAt).getTime(), new Date(primary.updatedAt).getTime());
  return { ...view, effectivePort: effectivePort(primary.port, primary.security), secretsUnreadable, updatedAt: new Date(updated).toISOString() } as SettingsView;
}
