export { createDb, migrate, migrationsFolder } from './client';
export type { CreateDbOptions, Db, DbHandle, DbKind, Schema } from './client';
export { databaseErrorOf, isUniqueViolation, PgErrorCode } from './errors';
export type { DatabaseError } from './errors';
export { queryRows } from './rows';
export { equalsIgnoringCase, lower } from './schema/columns';
export * from './schema';
export type * from './types';
