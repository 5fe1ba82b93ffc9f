import type { Request, Response } from 'express';
import { takeFlash } from '../../web/flash.js';
import { q } from '../../web/htmx.js';
import { type ListPage, afterChange } from './after-change.js';

/** How a list page opens a row's panel from its address (?edit=ID …); undefined: this row cannot be opened so. */
export type PanelOpeners<Row, Panel> = Record<string, (row: Row) => Panel | undefined | Promise<Panel | undefined>>;

/**
 * What the Relays, Channels and Rules pages share: a list with a panel below it (adding, or one
 * row being edited, tested or removed) that the address picks; after a change, the list with a
 * message (afterChange); a refused form, its panel again with 400 and the reasons.
 */
export abstract class ListPageController<Row extends { id: string }, Panel> {
  /** The row's name in messages: "No rule 7: it may have been removed." */
  protected abstract readonly noun: string;
  protected abstract readonly listPage: ListPage;
  /** The panel shown when no row is open. */
  protected abstract readonly addPanel: Panel;

  protected abstract rows(): Promise<Row[]>;
  protected abstract render(req: Request, res: Response, panel: Panel, extra?: { notice?: string; list?: Row[] }): Promise<void>;

  protected gone(id: string): string {
    return `No ${this.noun} ${id}: it may have been removed.`;
  }

  /**
   * The page: the panel of the first opener whose parameter names a row it opens; when one names
   * none, the add panel with the message that the row is gone (unless a flash message waits).
   */
  protected async show(req: Request, res: Response, openers: PanelOpeners<Row, Panel>): Promise<void> {
    let notice = takeFlash(req);
    const list = await this.rows();
    let missing: string | undefined;
    for (const [param, open] of Object.entries(openers)) {
      const id = q(req, param);
      if (id === undefined) continue;
      const row = list.find((r) => r.id === id);
      const panel = row && (await open(row));
      if (panel) return this.render(req, res, panel, { notice, list });
      missing ??= id;
    }
    if (missing !== undefined) notice ??= this.gone(missing);
    return this.render(req, res, this.addPanel, { notice, list });
  }

  protected async find(id: string): Promise<Row | undefined> {
    return (await this.rows()).find((r) => r.id === id);
  }

  protected refuse(req: Request, res: Response, panel: Panel): Promise<void> {
    res.status(400);
    return this.render(req, res, panel);
  }

  /** After a change: the list with the message (see afterChange). */
  protected done(req: Request, res: Response, message: string): Promise<void> {
    return afterChange(req, res, this.listPage, message, (notice) => this.render(req, res, this.addPanel, { notice }));
  }
}
