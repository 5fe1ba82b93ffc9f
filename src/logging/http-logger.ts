import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';

/** Probes that would fill the log: polled by orchestrators, Prometheus and the dashboard. */
const QUIET = /^\/(healthz|readyz|metrics|assets\/|api\/docs\/assets\/|favicon\.ico)/;

/** The path without its query string (queries may hold addresses being searched). */
const pathOf = (url: string | undefined): string => (url ?? '').split('?')[0] ?? '';

/**
 * One JSON line per HTTP request: method, path, status, time, client. Never headers (the
 * Authorization bearer token, the session cookie) and never bodies (settings carry the relay
 * password).
 */
export function httpLogger(root: Logger) {
  return pinoHttp({
    logger: root.child({ module: 'http' }),
    wrapSerializers: false,
    quietReqLogger: true,
    autoLogging: { ignore: (req: IncomingMessage) => QUIET.test(pathOf(req.url)) },
    serializers: {
      req: (req: IncomingMessage & { id?: unknown }) => ({ id: req.id, method: req.method, path: pathOf(req.url), client: req.socket?.remoteAddress }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req.url)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req.url)} ${res.statusCode}`,
  });
}
