import { Module } from '@nestjs/common';
import { ApiDocsController, ApiDocsHolder } from './api-docs.controller.js';

@Module({
  providers: [ApiDocsHolder],
  controllers: [ApiDocsController],
  exports: [ApiDocsHolder],
})
export class OpenApiModule {}
