import { Module } from '@nestjs/common';
import { DashboardSessions } from './dashboard-sessions.js';

/** The web floor's providers: the dashboard's sessions (the rest of web/ is plain functions and middleware). */
@Module({
  providers: [DashboardSessions],
  exports: [DashboardSessions],
})
export class WebModule {}
