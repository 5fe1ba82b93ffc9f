import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { ApiTokenService } from './api-token.service.js';

/** Requires "Authorization: Bearer <token>"; answers 401 otherwise. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(private readonly tokens: ApiTokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1] || !(await this.tokens.verify(match[1]))) {
      throw new UnauthorizedException({ message: 'A valid bearer token is required (Authorization: Bearer <token>)' });
    }
    return true;
  }
}
