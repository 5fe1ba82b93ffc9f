# Postroom: build once, run as an unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs the "prepare" script; with no src/ yet it has nothing to build.
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json rolldown.config.mjs ./
COPY src ./src
COPY migrations ./migrations
COPY views ./views
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    DATA_DIR=/var/lib/postroom \
    HTTP_HOST=0.0.0.0 \
    SMTP_LISTEN_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
# Served at run time: the dashboard's templates and its static assets (/assets: app.css, app.js).
COPY views ./views
COPY public ./public
# The sendmail drop-in, which `postroom sendmail` runs.
COPY bin ./bin
RUN mkdir -p /var/lib/postroom && chown node:node /var/lib/postroom \
 && ln -s /app/dist/src/cli/postroom.cjs /usr/local/bin/postroom
USER node
VOLUME /var/lib/postroom
EXPOSE 2525 8025
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8025/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node as the main process (no npm, no shell): `docker stop` sends SIGTERM to it, and it stops
# everything in order. In-flight deliveries may take up to 20 s: give `docker stop` -t 30.
CMD ["node", "dist/src/main.js"]
