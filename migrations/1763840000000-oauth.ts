import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth2 (SASL XOAUTH2) authentication for the primary relay: the method, the provider and its
 * fields. Client secret, refresh token and service-account key are sealed like the password.
 */
export class OAuth1763840000000 implements MigrationInterface {
  name = 'OAuth1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ADD COLUMN auth_method text NOT NULL DEFAULT 'password' CHECK (auth_method IN ('password', 'oauth2'))`);
    await q.query(
      `ALTER TABLE settings ADD COLUMN oauth_provider text NOT NULL DEFAULT 'microsoft' CHECK (oauth_provider IN ('microsoft', 'google', 'google-service-account', 'generic'))`,
    );
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_tenant_id text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_client_id text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_client_secret_sealed text`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_refresh_token_sealed text`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_service_account_key_sealed text`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_token_url text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE settings ADD COLUMN oauth_scope text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of [
      'oauth_scope',
      'oauth_token_url',
      'oauth_service_account_key_sealed',
      'oauth_refresh_token_sealed',
      'oauth_client_secret_sealed',
      'oauth_client_id',
      'oauth_tenant_id',
      'oauth_provider',
      'auth_method',
    ]) {
      await q.query(`ALTER TABLE settings DROP COLUMN ${c}`);
    }
  }
}
