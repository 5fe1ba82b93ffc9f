import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiTokenGuard } from './api-token.guard.js';
import { ApiTokenService } from './api-token.service.js';
import { ApiTokenEntity } from './api-token.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const AUTH_ENTITIES = [ApiTokenEntity];

@Module({
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES)],
  providers: [ApiTokenService, ApiTokenGuard],
  exports: [ApiTokenService, ApiTokenGuard],
})
export class AuthModule {}
