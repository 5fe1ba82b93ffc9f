/** How a confidential client proves itself at the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthMethod = 'post' | 'basic';

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks of each part (a space is '+'). */
const formEncode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);

/** The Authorization header of client_secret_basic: base64(urlencode(id) ":" urlencode(secret)). */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/**
 * A token request's form parameters and Authorization header for this method. With 'basic' the
 * client id and secret leave the body for the header. A request without a client secret (a
 * public client, a JWT assertion) has nothing to authenticate this way and stays as it is.
 */
export function authenticateClient(params: Record<string, string>, method: ClientAuthMethod): { params: Record<string, string>; authorization?: string } {
  const { client_id: clientId = '', client_secret: clientSecret, ...rest } = params;
  if (method === 'post' || clientSecret === undefined) return { params };
  return { params: rest, authorization: basicCredentials(clientId, clientSecret) };
}
