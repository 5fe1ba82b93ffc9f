import { CHANNEL_TYPES, type ChannelType } from '../../channels/channel-request.js';
import type { ChannelView } from '../../channels/channel.view.js';
import type { FieldErrors } from '../../common/field-errors.js';
import { type FormBody, formChecked, formText } from './form-body.js';

/** What a channel form shows again: what was typed, but never a secret (URL, token, topic, header values). */
export interface ChannelForm {
  type: ChannelType | '';
  name: string;
  enabled: boolean;
  template: string;
  clearToken: boolean;
  clearHeaders: boolean;
}

export const EMPTY_CHANNEL_FORM: ChannelForm = { type: 'webhook', name: '', enabled: true, template: '', clearToken: false, clearHeaders: false };

export function channelFormFromBody(body: FormBody, type?: ChannelType): ChannelForm {
  const typed = formText(body, 'type');
  return {
    type: type ?? ((CHANNEL_TYPES as readonly string[]).includes(typed) ? (typed as ChannelType) : ''),
    name: formText(body, 'name'),
    enabled: formChecked(body, 'enabled'),
    template: typeof body.template === 'string' ? body.template : '',
    clearToken: formChecked(body, 'clearToken'),
    clearHeaders: formChecked(body, 'clearHeaders'),
  };
}

export function channelFormFromView(c: ChannelView): ChannelForm {
  return { type: c.type, name: c.name, enabled: c.enabled, template: c.template ?? '', clearToken: false, clearHeaders: false };
}

/**
 * Extra headers typed one "Name: value" a line (blank lines skipped), or the reason they cannot
 * be read. The names and values are checked by the service.
 */
function parseHeaders(text: string): { headers: Record<string, string> } | { problem: string } {
  const headers: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon < 1) return { problem: `line ${i + 1} is not "Name: value"` };
    const name = line.slice(0, colon).trim();
    if (Object.keys(headers).some((n) => n.toLowerCase() === name.toLowerCase())) return { problem: `have ${name.slice(0, 40)} twice (line ${i + 1})` };
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers };
}

/**
 * The channel API's input from a form, or the reasons the form itself cannot be read. An empty
 * field is left out: on create it is not given, on update it keeps the stored value; the clear
 * boxes send null (token) or no headers at all.
 */
export function channelInput(body: FormBody, mode: 'create' | 'update'): { input: Record<string, unknown> } | { errors: FieldErrors } {
  const input: Record<string, unknown> = { name: formText(body, 'name'), enabled: formChecked(body, 'enabled') };
  if (mode === 'create') input.type = formText(body, 'type');
  const url = formText(body, 'url');
  if (url || mode === 'create') input.url = url;
  for (const key of ['token', 'topic'] as const) {
    const value = formText(body, key);
    if (value) input[key] = value;
  }
  if (mode === 'update' && formChecked(body, 'clearToken')) input.token = null;
  const headerText = typeof body.headers === 'string' ? body.headers : '';
  if (mode === 'update' && formChecked(body, 'clearHeaders')) input.headers = {};
  else if (headerText.trim()) {
    const parsed = parseHeaders(headerText);
    if ('problem' in parsed) return { errors: { headers: parsed.problem } };
    input.headers = parsed.headers;
  }
  // The template is not a secret: on update, empty goes as typed (back to the default).
  if (typeof body.template === 'string' && (mode === 'update' || body.template.trim())) input.template = body.template;
  return { input };
}
