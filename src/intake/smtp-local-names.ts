import { isMailbox } from '../common/address.js';

/**
 * A MAIL FROM or RCPT TO command as smtp-server can parse it. smtp-server refuses a bare local
 * name (`RCPT TO:<root>`, as some daemons write it) and a domain with a trailing dot
 * (`<root@nas.>`) with 501 before Postroom sees the address. Postfix takes both: it appends
 * "@$myorigin" to a bare name and drops the dot. So does this, with `localhost` (a local domain,
 * which intake rewrites: see local-mail.ts). Any other command comes back as it was.
 */
export function parseableAddressCommand(command: Buffer): Buffer {
  const text = command.toString('utf8');
  const m = /^(\s*(?:MAIL\s+FROM|RCPT\s+TO)\s*:\s*<)([^<>@\s]+|[^<>@\s]+@[^<>@\s]+\.)(>.*)$/is.exec(text);
  if (!m) return command;
  const address = m[2]!;
  const at = address.lastIndexOf('@');
  // The null sender's <> never matches; `postmaster` alone is smtp-server's to take (RFC 5321 4.1.1.3).
  if (at === -1 && address.toLowerCase() === 'postmaster') return command;
  const qualified = at === -1 ? `${address}@localhost` : address.slice(0, -1);
  // A local part smtp-server would refuse anyway stays as it was, and is refused as it was sent.
  if (!isMailbox(`${at === -1 ? address : address.slice(0, at)}@localhost`)) return command;
  return Buffer.from(m[1]! + qualified + m[3]!, 'utf8');
}
