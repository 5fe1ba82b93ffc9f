import { Injectable } from '@nestjs/common';
import { assembleReport } from './report-maths.js';
import type { DailyReport } from './report.types.js';
import { ReportsRepository } from './reports.repository.js';

export const DEFAULT_TOP = 10;
export const MAX_TOP = 100;

/** Daily reports from the mail log and the event log (README: Reports). */
@Injectable()
export class ReportsService {
  constructor(private readonly repo: ReportsRepository) {}

  /** The report of one calendar day (YYYY-MM-DD) in the given time zone. */
  async report(date: string, timeZone: string, top = DEFAULT_TOP): Promise<DailyReport> {
    const data = await this.repo.read(date, timeZone, Math.max(1, Math.min(MAX_TOP, Math.floor(top))));
    return assembleReport(date, timeZone, data);
  }
}
