import { SECRET_NAMES } from '../../relays/relay-secrets.js';
import type { ProviderPreset } from '../../settings/presets.js';
import { PROVIDER_PRESETS } from '../../settings/presets.js';
import { SETTINGS_FIELDS, SETTINGS_FIELDSETS, type SettingsFieldSpec, formLabel, helpText } from '../../settings/settings-fields.js';
import type { SettingsView } from '../../settings/settings.view.js';
import { type SettingsFormValues, clearName } from './settings-form.js';

/** The partial that draws each kind of field (views/fragments/settings/). */
const PARTIALS: Record<SettingsFieldSpec['kind'], string> = {
  text: 'fragments/settings/field',
  number: 'fragments/settings/field',
  port: 'fragments/settings/field',
  aliases: 'fragments/settings/field',
  flag: 'fragments/settings/checkbox',
  choice: 'fragments/settings/select',
  secret: 'fragments/settings/secret',
  preset: 'fragments/settings/preset',
};

/** What the form shows besides the fields' values. */
export interface FormState {
  view: SettingsView;
  values: SettingsFormValues;
  /** Reasons by field, already with the field's name in front. */
  errors: Record<string, string>;
  /** The provider whose host, port and security the form shows (or the one just applied). */
  preset?: ProviderPreset;
  /** A sentence saying what the provider just applied filled in. */
  presetApplied?: string;
  /** Where Google sends the browser back to ("Authorize with Google"). */
  googleRedirectUri: string;
}

/** What a field's partial needs, by its kind. */
function fieldModel(f: SettingsFieldSpec, state: FormState): Record<string, unknown> {
  const { view, values, errors } = state;
  const shown = (name: string): unknown => (values as unknown as Record<string, unknown>)[name];
  const base = { partial: PARTIALS[f.kind], name: f.name, label: formLabel(f), hint: helpText(f), error: errors[f.name] };
  switch (f.kind) {
    case 'text':
    case 'aliases':
      return {
        ...base,
        value: shown(f.name),
        ...(f.kind === 'text' && f.email ? { type: 'email' } : {}),
        ...(f.kind === 'aliases' ? { rows: '4' } : {}),
        ...(f.placeholder ? { placeholder: f.placeholder } : {}),
        ...(f.autocompleteOff ? { autocomplete: 'off' } : {}),
      };
    case 'number':
    case 'port':
      // Strings: Handlebars would leave out a min of 0.
      return { ...base, value: shown(f.name), type: 'number', min: String(f.kind === 'port' ? 1 : f.min), max: String(f.kind === 'port' ? 65535 : f.max), inputmode: 'numeric' };
    case 'flag':
      return { ...base, checked: shown(f.name) };
    case 'choice': {
      const current = shown(f.name) || (view as unknown as Record<string, unknown>)[f.name];
      const hint = f.name === 'security' ? `${base.hint} Port in use now: ${view.effectivePort}.` : base.hint;
      return { ...base, hint, choices: f.choices.map((c) => ({ ...c, selected: c.value === current })) };
    }
    case 'secret':
      return {
        ...base,
        what: SECRET_NAMES[f.name],
        clearName: clearName(f.name),
        clear: shown(clearName(f.name)),
        set: view[`${f.name}Set`],
        unreadable: view.secretsUnreadable.includes(f.name),
        multiline: f.multiline,
        // A secret typed into a form that came back with errors is not kept: it has to be typed again.
        retype: Object.keys(errors).length > 0,
      };
    case 'preset':
      return { ...base, presets: PROVIDER_PRESETS.map((p) => ({ ...p, selected: p.id === state.preset?.id })), note: state.preset?.note, applied: state.presetApplied };
  }
}

/** The form's fieldsets with their fields, in the order of the description. */
export function formFieldsets(state: FormState) {
  return SETTINGS_FIELDSETS.map((fs) => ({
    legend: fs.legend,
    // The OAuth2 fieldset is an anchor of its own, and ends with "Authorize with Google".
    ...(fs.id === 'oauth' ? { id: 'oauth', after: 'fragments/settings/google-authorize', googleRedirectUri: state.googleRedirectUri } : {}),
    fields: SETTINGS_FIELDS.filter((f) => f.fieldset === fs.id).map((f) => fieldModel(f, state)),
  }));
}
