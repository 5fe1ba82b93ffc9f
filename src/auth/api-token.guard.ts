import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiTokenService } from './api-token.service.js';
import { bearerToken, tokenRequired, verifiedByBearerFirst } from './bearer-auth.js';

/**
 * Requires "Authorization: Bearer <token>"; answers 401 otherwise. Under /api/v1 bearerFirst
 * has checked the token already; the guard stays on every controller all the same.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(private readonly tokens: ApiTokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    if (verifiedByBearerFirst(req)) return true;
    const token = bearerToken(req.headers.authorization);
    if (!token || !(await this.tokens.verify(token))) throw tokenRequired();
    return true;
  }
}
