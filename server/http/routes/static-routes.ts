/** The bundled client: / (index.html), /assets/* (app.js, app.css), and an empty /favicon.ico. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import type { AppContext } from '../app-context.ts';

export function staticRoutes(ctx: AppContext): Router {
  const router = Router();
  const index = join(ctx.clientDir, 'index.html');
  router.get('/', (_req, res) => {
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The web client is not built: run `npm run build` (client/build.ts).\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  router.use('/assets', express.static(join(ctx.clientDir, 'assets'), { index: false, fallthrough: false, maxAge: 0 }));
  router.get('/favicon.ico', (_req, res) => void res.status(204).end());
  return router;
}
