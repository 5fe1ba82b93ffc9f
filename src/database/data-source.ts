import { DataSourceOptions } from 'typeorm';
import { PgDriver } from './pg-driver.js';
import { Initial1763780000000 } from '../../migrations/1763780000000-initial.js';
import { Dashboard1763790000000 } from '../../migrations/1763790000000-dashboard.js';
import { Reports1763800000000 } from '../../migrations/1763800000000-reports.js';
import { DeliveryNotices1763810000000 } from '../../migrations/1763810000000-delivery-notices.js';
import { Relays1763820000000 } from '../../migrations/1763820000000-relays.js';
import { Retention1763830000000 } from '../../migrations/1763830000000-retention.js';
import { OAuth1763840000000 } from '../../migrations/1763840000000-oauth.js';
import { FlushInFlight1763850000000 } from '../../migrations/1763850000000-flush-in-flight.js';
import { MessageDependents1763860000000 } from '../../migrations/1763860000000-message-dependents.js';
import { LocalMail1763870000000 } from '../../migrations/1763870000000-local-mail.js';
import { OAuthClientAuth1763880000000 } from '../../migrations/1763880000000-oauth-client-auth.js';
import { PrimaryRelay1763890000000 } from '../../migrations/1763890000000-primary-relay.js';
import { RecipientRefusals1763900000000 } from '../../migrations/1763900000000-recipient-refusals.js';
import { MailLogFates1763910000000 } from '../../migrations/1763910000000-mail-log-fates.js';
import { ChannelsRules1763920000000 } from '../../migrations/1763920000000-channels-rules.js';
import { SelfCheck1763930000000 } from '../../migrations/1763930000000-self-check.js';
import { ChannelLines1763940000000 } from '../../migrations/1763940000000-channel-lines.js';

export const MIGRATIONS = [Initial1763780000000, Dashboard1763790000000, Reports1763800000000, DeliveryNotices1763810000000, Relays1763820000000, Retention1763830000000, OAuth1763840000000, FlushInFlight1763850000000, MessageDependents1763860000000, LocalMail1763870000000, OAuthClientAuth1763880000000, PrimaryRelay1763890000000, RecipientRefusals1763900000000, MailLogFates1763910000000, ChannelsRules1763920000000, SelfCheck1763930000000, ChannelLines1763940000000];

/**
 * One explicit data source definition, shared by the app, the tests and the benchmarks. It
 * knows no domain: the app's modules register their entities themselves, and data sources
 * outside Nest pass src/entities.ts. Its pool is pg's, made through PgDriver, so that Sql (the
 * hand-written SQL of every module) runs on the same pool as TypeORM.
 */
export function dataSourceOptions(url: string, poolSize = 20, entities: NonNullable<DataSourceOptions['entities']> = []): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'postroom_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    driver: new PgDriver(),
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5000,
      application_name: 'postroom',
    },
  };
}
