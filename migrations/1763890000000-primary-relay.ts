import { MigrationInterface, QueryRunner } from 'typeorm';

/** The relay columns the settings row had, in the order of their old migrations, with their old definitions. */
const SETTINGS_RELAY_COLUMNS: [settings: string, relay: string, definition: string][] = [
  ['relay_host', 'host', `text NOT NULL DEFAULT ''`],
  ['relay_port', 'port', `integer`],
  ['security', 'security', `text NOT NULL DEFAULT 'starttls' CHECK (security IN ('none', 'starttls', 'tls'))`],
  ['tls_verify', 'tls_verify', `boolean NOT NULL DEFAULT true`],
  ['auth_enabled', 'auth_enabled', `boolean NOT NULL DEFAULT false`],
  ['username', 'username', `text NOT NULL DEFAULT ''`],
  ['password_sealed', 'password_sealed', `text`],
  ['auth_method', 'auth_method', `text NOT NULL DEFAULT 'password' CHECK (auth_method IN ('password', 'oauth2'))`],
  ['oauth_provider', 'oauth_provider', `text NOT NULL DEFAULT 'microsoft' CHECK (oauth_provider IN ('microsoft', 'google', 'google-service-account', 'generic'))`],
  ['oauth_tenant_id', 'oauth_tenant_id', `text NOT NULL DEFAULT ''`],
  ['oauth_client_id', 'oauth_client_id', `text NOT NULL DEFAULT ''`],
  ['oauth_client_secret_sealed', 'oauth_client_secret_sealed', `text`],
  ['oauth_refresh_token_sealed', 'oauth_refresh_token_sealed', `text`],
  ['oauth_service_account_key_sealed', 'oauth_service_account_key_sealed', `text`],
  ['oauth_token_url', 'oauth_token_url', `text NOT NULL DEFAULT ''`],
  ['oauth_scope', 'oauth_scope', `text NOT NULL DEFAULT ''`],
  ['oauth_client_auth', 'oauth_client_auth', `text NOT NULL DEFAULT 'auto' CHECK (oauth_client_auth IN ('auto', 'post', 'basic'))`],
];

/** The columns relay gains: the OAuth2 login, which only the primary may use. */
const OAUTH_COLUMNS = SETTINGS_RELAY_COLUMNS.filter(([, relay]) => relay === 'auth_method' || relay.startsWith('oauth_'));

/**
 * Relays modelled once: the primary relay moves from the settings row into `relay` as its
 * priority-0 row (one at most; its host is blank for direct delivery), and `relay` gains the
 * OAuth2 login columns (XOAUTH2 stays the primary's alone). Sealed secrets move as the bytes they
 * are, so the same SECRET_KEY opens them. relay_health keeps its keys: the primary's is still
 * 'primary'. Down moves the primary back into the settings row.
 */
export class PrimaryRelay1763890000000 implements MigrationInterface {
  name = 'PrimaryRelay1763890000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE relay ${OAUTH_COLUMNS.map(([, column, definition]) => `ADD COLUMN ${column} ${definition}`).join(', ')}`);
    await q.query(`ALTER TABLE relay DROP CONSTRAINT relay_priority_check`);
    await q.query(`
      ALTER TABLE relay
        ADD CONSTRAINT relay_priority_check CHECK (priority >= 0),
        ADD CONSTRAINT relay_backup_host CHECK (priority = 0 OR host <> ''),
        ADD CONSTRAINT relay_oauth_primary_only CHECK (priority = 0 OR auth_method = 'password')`);
    await q.query(`CREATE UNIQUE INDEX relay_one_primary ON relay (priority) WHERE priority = 0`);
    const columns = SETTINGS_RELAY_COLUMNS.map(([settings, relay]) => [settings, relay] as const);
    await q.query(`
      INSERT INTO relay (${columns.map(([, relay]) => relay).join(', ')}, priority, enabled, created_at, updated_at)
      SELECT ${columns.map(([settings]) => settings).join(', ')}, 0, true, updated_at, updated_at FROM settings WHERE id = 1`);
    await q.query(`ALTER TABLE settings ${columns.map(([settings]) => `DROP COLUMN ${settings}`).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE settings ${SETTINGS_RELAY_COLUMNS.map(([settings, , definition]) => `ADD COLUMN ${settings} ${definition}`).join(', ')}`);
    await q.query(`
      UPDATE settings s SET ${SETTINGS_RELAY_COLUMNS.map(([settings, relay]) => `${settings} = r.${relay}`).join(', ')},
        updated_at = GREATEST(s.updated_at, r.updated_at)
      FROM relay r WHERE r.priority = 0 AND s.id = 1`);
    await q.query(`DELETE FROM relay WHERE priority = 0`);
    await q.query(`DROP INDEX relay_one_primary`);
    await q.query(`ALTER TABLE relay DROP CONSTRAINT relay_oauth_primary_only, DROP CONSTRAINT relay_backup_host, DROP CONSTRAINT relay_priority_check`);
    await q.query(`ALTER TABLE relay ADD CONSTRAINT relay_priority_check CHECK (priority >= 1)`);
    await q.query(`ALTER TABLE relay ${OAUTH_COLUMNS.map(([, column]) => `DROP COLUMN ${column}`).join(', ')}`);
  }
}
