import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Bus } from '../bus';
import type { Config } from '../config';
import type { Mailer } from '../mail';
import type { Storage } from '@podlive/storage';

/** The shared infrastructure every feature plugin may use. */
export interface Services {
  config: Config;
  bus: Bus;
  storage: Storage;
  mailer: Mailer;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    bus: Bus;
    storage: Storage;
    mailer: Mailer;
  }
}

/**
 * Exposes config, bus, storage and mailer on the root instance (and so on every feature plugin).
 * The instances are made and closed by their owner (build() or the caller), not here.
 */
async function servicesPlugin(app: FastifyInstance, services: Services) {
  app.decorate('config', services.config);
  app.decorate('bus', services.bus);
  app.decorate('storage', services.storage);
  app.decorate('mailer', services.mailer);
}

export default fp(servicesPlugin, { name: 'services', fastify: '5.x' });
