import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ReportMailer } from './report-mailer.js';
import { ReportsController } from './reports.controller.js';
import { ReportsPageController } from './reports.page.controller.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

@Module({
  imports: [ScheduleModule.forRoot(), AuthModule, EventsModule, IntakeModule, SettingsModule],
  providers: [ReportsRepository, ReportsService, ReportMailer],
  controllers: [ReportsController, ReportsPageController],
  exports: [ReportsService],
})
export class ReportsModule {}
