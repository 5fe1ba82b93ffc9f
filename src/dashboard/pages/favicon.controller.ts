import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import path from 'node:path';
import { projectRoot } from '../../web/web-setup.js';

/**
 * /favicon.ico, which browsers, bookmarks and feed readers ask for whatever the page links (the
 * layouts link the SVG under /assets). Public, like the login page.
 */
@Controller()
export class FaviconController {
  private readonly file = path.join(projectRoot(), 'public', 'favicon.ico');

  @Get('favicon.ico')
  icon(@Res() res: Response): void {
    // After the dashboard's own no-store: an icon may be kept for a day.
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/x-icon').sendFile(this.file);
  }
}
