import type { DataSourceOptions } from 'typeorm';
import { AUTH_ENTITIES } from './auth/auth.module.js';
import { CHANNELS_ENTITIES } from './channels/channels.module.js';
import { EVENTS_ENTITIES } from './events/events.module.js';
import { MAIL_LOG_ENTITIES } from './mail-log/mail-log.module.js';
import { QUEUE_ENTITIES } from './queue/queue.module.js';
import { RELAYS_ENTITIES } from './relays/relays.module.js';
import { SETTINGS_ENTITIES } from './settings/settings.module.js';

/**
 * Every entity, from the lists the modules register themselves (TypeOrmModule.forFeature): for
 * data sources outside Nest (the tests' migrations, the benchmarks). The app itself loads them
 * through its modules (autoLoadEntities).
 */
export const ENTITIES: NonNullable<DataSourceOptions['entities']> = [...SETTINGS_ENTITIES, ...QUEUE_ENTITIES, ...MAIL_LOG_ENTITIES, ...EVENTS_ENTITIES, ...AUTH_ENTITIES, ...RELAYS_ENTITIES, ...CHANNELS_ENTITIES];
