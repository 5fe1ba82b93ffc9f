import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How the OAuth2 client authenticates at the token endpoint (RFC 6749 §2.3.1): the client
 * secret in the form body (post), as HTTP Basic (basic), or post and then basic once when the
 * provider refuses the client (auto, the default: what existing installations did, plus the
 * fallback).
 */
export class OAuthClientAuth1763880000000 implements MigrationInterface {
  name = 'OAuthClientAuth1763880000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_client_auth text NOT NULL DEFAULT 'auto' CHECK (oauth_client_auth IN ('auto', 'post', 'basic'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings DROP COLUMN oauth_client_auth`);
  }
}
