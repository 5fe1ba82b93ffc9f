import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ReportMailer } from './report-mailer.js';
import { ReportsController } from './reports.controller.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

@Module({
  imports: [AuthModule, EventsModule, IntakeModule, SettingsModule],
  providers: [ReportsRepository, ReportsService, ReportMailer],
  controllers: [ReportsController],
  exports: [ReportsService],
})
export class ReportsModule {}
