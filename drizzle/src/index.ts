export { createDb, migrate, migrationsFolder } from './client';
export type { CreateDbOptions, Db, DbHandle, DbKind, Schema } from './client';
export { databaseErrorOf, isUniqueViolation, PgErrorCode } from './errors';
export type { DatabaseError } from './errors';
export { queryRows } from './rows';
export { equalsIgnoringCase, lower } from './schema/columns';
export * from './schema';
export type * from './types';
// The query-building vocabulary callers need with the schema (not the drivers), so they depend on
// this package alone and on the one drizzle-orm it was built with.
export { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
export type { SQL } from 'drizzle-orm';
