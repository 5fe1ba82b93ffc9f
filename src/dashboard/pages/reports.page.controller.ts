import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { q, renderView } from '../../web/htmx.js';
import { dateIn, resolveReportDay } from '../../reports/report-date.js';
import { formatReportText } from '../../reports/report-text.js';
import { reportPageModel } from './report-view.js';
import { ReportsService } from '../../reports/reports.service.js';

/** Today's Report, Yesterday's Report, and any day by date (a GET form picks it). */
@Controller('reports')
export class ReportsPageController {
  constructor(private readonly reports: ReportsService) {}

  /** The date picker's target: /reports?date=YYYY-MM-DD → /reports/YYYY-MM-DD. */
  @Get()
  async pick(@Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = q(req, 'date');
    if (raw === undefined) return res.redirect(303, '/reports/today');
    const date = resolveReportDay(raw, appTimeZone());
    if (date) return res.redirect(303, `/reports/${date}`);
    this.invalid(req, res, raw);
  }

  @Get('today')
  today(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.render(req, res, 'today');
  }

  @Get('yesterday')
  yesterday(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.render(req, res, 'yesterday');
  }

  @Get(':date')
  byDate(@Param('date') date: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.render(req, res, date);
  }

  private async render(req: Request, res: Response, spec: string): Promise<void> {
    const timeZone = appTimeZone();
    const date = resolveReportDay(spec, timeZone);
    if (!date) return this.invalid(req, res, spec);
    const report = await this.reports.report(date, timeZone);
    const format = q(req, 'format');
    if (format === 'text') {
      res.type('text/plain; charset=utf-8').setHeader('Content-Disposition', `inline; filename="postroom-report-${date}.txt"`);
      res.send(formatReportText(report));
      return;
    }
    if (format === 'json') {
      res.setHeader('Content-Disposition', `inline; filename="postroom-report-${date}.json"`);
      res.json(report);
      return;
    }
    const which = spec === 'today' ? 'today' : spec === 'yesterday' ? 'yesterday' : undefined;
    renderView(req, res, 'pages/reports/day', 'fragments/reports/day', {
      title: which === 'today' ? "Today's Report" : which === 'yesterday' ? "Yesterday's Report" : `Report for ${date}`,
      nav: which,
      report: reportPageModel(report, dateIn(timeZone)),
    });
  }

  private invalid(req: Request, res: Response, value: string): void {
    res.status(400);
    renderView(req, res, 'pages/reports/day', 'fragments/reports/day', {
      title: 'Report',
      error: 'Pick a date such as 2026-11-22 (or today, yesterday).',
      value,
      report: null,
      maxDate: dateIn(appTimeZone()),
    });
  }
}
