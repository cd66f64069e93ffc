import type { Db } from '@podlive/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The drizzle database (PostgreSQL or PGlite); opened and closed by build()'s caller. */
    db: Db;
  }
}

async function databasePlugin(app: FastifyInstance, options: { db: Db }) {
  app.decorate('db', options.db);
}

export default fp(databasePlugin, { name: 'database', fastify: '5.x' });
