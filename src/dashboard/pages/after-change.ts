import type { Request, Response } from 'express';
import { flashRedirect } from '../../web/flash.js';

/** A list page: where it lives and the id of the part its forms swap (hx-target). */
export interface ListPage {
  path: string;
  part: string;
}

/**
 * After a change on a list page: a plain form follows a 303 to the list, the message in the
 * session; htmx gets the page's part again (`render`) with the message at its top, and the
 * address bar back on the list.
 */
export async function afterChange(req: Request, res: Response, page: ListPage, message: string, render: (notice: string) => Promise<void>): Promise<void> {
  if (req.headers['hx-request'] !== 'true') {
    // With a fragment of its own: the form's would be kept, away from the message.
    return flashRedirect(req, res, message, `${page.path}#${page.part}`);
  }
  res.setHeader('HX-Replace-Url', page.path);
  res.setHeader('HX-Reswap', 'outerHTML show:top');
  await render(message);
}
