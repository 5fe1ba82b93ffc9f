/** The OAuth2 providers' well-known endpoints; Google's can be pointed elsewhere (tests), see OAuthUrls. */
export const MICROSOFT_LOGIN_BASE = 'https://login.microsoftonline.com';
export const GOOGLE_AUTH_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Where the providers' endpoints are (the defaults above; tests give loopback stubs). */
export interface OAuthUrls {
  microsoftLoginBase: string;
  googleAuthUrl: string;
  googleTokenUrl: string;
}

export const DEFAULT_OAUTH_URLS: OAuthUrls = { microsoftLoginBase: MICROSOFT_LOGIN_BASE, googleAuthUrl: GOOGLE_AUTH_URL, googleTokenUrl: GOOGLE_TOKEN_URL };
