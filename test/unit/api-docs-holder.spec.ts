import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it, vi } from 'vitest';
import { buildApiDocument } from '../../src/openapi/api-docs.js';
import { ApiDocsHolder } from '../../src/openapi/api-docs.controller.js';

const DOCUMENT: OpenAPIObject = { openapi: '3.0.0', info: { title: 'Postroom API', version: '1.2.3' }, paths: {} };

vi.mock('../../src/openapi/api-docs.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/openapi/api-docs.js')>()),
  buildApiDocument: vi.fn(async () => DOCUMENT),
}));

describe('ApiDocsHolder', () => {
  it('makes the document on the first request only, not when the application is handed over', async () => {
    const holder = new ApiDocsHolder();
    expect(holder.get()).toBeUndefined();
    const app = {} as INestApplication;
    holder.describe(app, '1.2.3');
    expect(buildApiDocument).not.toHaveBeenCalled();
    expect(await holder.get()).toBe(DOCUMENT);
    expect(await holder.get()).toBe(DOCUMENT);
    expect(buildApiDocument).toHaveBeenCalledTimes(1);
    expect(buildApiDocument).toHaveBeenCalledWith(app, '1.2.3');
  });
});
