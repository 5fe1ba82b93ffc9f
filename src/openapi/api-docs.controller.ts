import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NotFound } from '../common/domain-errors.js';
import { buildApiDocument, operationList } from './api-docs.js';

/**
 * The API document, made from the application's routes on its first request: main.ts hands over
 * the application once it is built. It is seldom asked for, and scanning every controller and
 * route at start cost start-up time and garbage that most processes never use.
 */
export class ApiDocsHolder {
  private app?: INestApplication;
  private version = '';
  private document?: Promise<OpenAPIObject>;

  /** The application the document describes (its routes), and the API's version. */
  describe(app: INestApplication, version: string): void {
    this.app = app;
    this.version = version;
  }

  /** The document, made once; undefined until describe() was called. */
  get(): Promise<OpenAPIObject> | undefined {
    if (!this.document && this.app) this.document = buildApiDocument(this.app, this.version);
    return this.document;
  }
}

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'swagger-ui.css',
  'swagger-ui-bundle.js': 'swagger-ui-bundle.js',
};

/** The initialiser as a file of our own origin: the page has no inline script (CSP script-src 'self'). */
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/api/docs.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false, validatorUrl: null });
});
`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `GET /api/docs.json` (the OpenAPI 3 document) and `GET /api/docs` (Swagger UI served from our
 * own origin, no CDN, no inline script; a plain list of the calls without JavaScript). Public,
 * like the rest of /api: the document holds no secret, and every call it lists needs a token.
 */
@Controller('api')
export class ApiDocsController {
  private readonly uiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

  constructor(private readonly holder: ApiDocsHolder) {}

  private async doc(): Promise<OpenAPIObject> {
    const doc = this.holder.get();
    if (!doc) throw new NotFound('The API document is not ready yet');
    return doc;
  }

  @Get('docs.json')
  json(): Promise<OpenAPIObject> {
    return this.doc();
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(): Promise<string> {
    const rows = operationList(await this.doc())
      .map((o) => `<li><code>${o.method} ${escape(o.path)}</code> ${escape(o.summary)}</li>`)
      .join('\n');
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postroom API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<noscript>
<h1>Postroom API</h1>
<p>The OpenAPI document: <a href="/api/docs.json">/api/docs.json</a>. Every call needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<ul>
${rows}
</ul>
</noscript>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script>
</body>
</html>
`;
  }

  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (file === 'init.js') {
      res.type('application/javascript').send(INIT_JS);
      return;
    }
    const name = ASSETS[file];
    if (!name) throw new NotFound('No such asset');
    res.sendFile(path.join(this.uiDir, name), { maxAge: '1d' });
  }
}
