import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { appTimeZone } from '../common/timezone.js';
import { parseFormat, parseReportDay, parseTop } from './report-query.js';
import { formatReportText } from './report-text.js';
import { ReportsService } from './reports.service.js';

/** GET /api/v1/reports/{today,yesterday,YYYY-MM-DD}: JSON, or ?format=text. */
@Controller('api/v1/reports')
@UseGuards(ApiTokenGuard)
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}
  @Get(':day')
  async report(@Param('day') day: string, @Query() q: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const timeZone = appTimeZone();
    const date = parseReportDay(day, timeZone);
    const format = parseFormat(q.format);
    const report = await this.reports.report(date, timeZone, parseTop(q.top));
    if (format === 'text') res.type('text/plain; charset=utf-8').send(formatReportText(report));
    else res.json(report);
  }
}
