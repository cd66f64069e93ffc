import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** A `timestamp with time zone`, read as a JS `Date`. Every time column in PodLive is one. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Primary key: a random UUID made by the database (`gen_random_uuid()`, core since PG 13). */
export const id = () => uuid('id').primaryKey().defaultRandom();

/** When the row was inserted (set by the database). */
export const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/** When the row last changed: set on insert by the database, on every drizzle update by `$onUpdate`. */
export const updatedAt = () =>
  timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/**
 * `lower(column)`: the expression the case-insensitive unique indexes are built on (handles,
 * emails). Compare with `equalsIgnoringCase` so queries can use those indexes.
 */
export const lower = (column: AnyColumn): SQL => sql`lower(${column})`;

/** `lower(column) = lower(value)`: a case-insensitive match that uses the `lower(...)` indexes. */
export const equalsIgnoringCase = (column: AnyColumn, value: string): SQL =>
  sql`lower(${column}) = lower(${value})`;
