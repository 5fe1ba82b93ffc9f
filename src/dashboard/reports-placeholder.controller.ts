import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../common/timezone.js';
import { renderView } from './htmx.js';
import { localDay } from './local-time.js';
import { pageUrl } from './log-paging.js';

/**
 * Today's and Yesterday's Report are not built yet. Until they are, these pages say so plainly
 * (no made-up numbers) and open the mail log on that day, in the server's time zone.
 */
@Controller('reports')
export class ReportsPlaceholderController {
  @Get('today')
  today(@Req() req: Request, @Res() res: Response): void {
    this.render(req, res, 0);
  }

  @Get('yesterday')
  yesterday(@Req() req: Request, @Res() res: Response): void {
    this.render(req, res, 1);
  }

  private render(req: Request, res: Response, daysAgo: 0 | 1): void {
    const timeZone = appTimeZone();
    const day = localDay(timeZone, daysAgo);
    const range = { since: day.since, until: day.until };
    const dayLabel = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(day.start);
    renderView(req, res, 'pages/reports/placeholder', 'fragments/reports/placeholder', {
      title: daysAgo === 0 ? "Today's Report" : "Yesterday's Report",
      nav: daysAgo === 0 ? 'today' : 'yesterday',
      which: daysAgo === 0 ? 'today' : 'yesterday',
      dayLabel,
      timeZone,
      links: {
        all: pageUrl('/mail-log', range),
        sent: pageUrl('/mail-log', { event: 'sent', ...range }),
        deferred: pageUrl('/mail-log', { event: 'deferred', ...range }),
        bounced: pageUrl('/mail-log', { event: 'bounced', ...range }),
        events: pageUrl('/logs', range),
      },
    });
  }
}
