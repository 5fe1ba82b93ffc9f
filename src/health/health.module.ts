import { Module } from '@nestjs/common';
import { IntakeModule } from '../intake/intake.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [IntakeModule],
  controllers: [HealthController],
})
export class HealthModule {}
