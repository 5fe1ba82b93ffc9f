import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { RelaysModule } from '../relays/relays.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ChannelTestService } from './channel-test.service.js';
import { ChannelEntity } from './channel.entity.js';
import { ChannelsController } from './channels.controller.js';
import { ChannelsService } from './channels.service.js';
import { RuleEntity } from './rule.entity.js';
import { RulesController } from './rules.controller.js';
import { RulesService } from './rules.service.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const CHANNELS_ENTITIES = [ChannelEntity, RuleEntity];

/**
 * Notification channels (HTTP targets, secrets sealed with the relays' SecretBox) and the
 * routing rules that send alerts to them; intake asks the rules, delivery posts to the channels.
 */
@Module({
  imports: [TypeOrmModule.forFeature(CHANNELS_ENTITIES), AuthModule, EventsModule, RelaysModule, SettingsModule],
  providers: [ChannelsService, RulesService, ChannelTestService],
  controllers: [ChannelsController, RulesController],
  exports: [ChannelsService, RulesService, ChannelTestService],
})
export class ChannelsModule {}
