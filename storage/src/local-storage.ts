import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, assertValidPrefix, keyToUrlPath } from './key';
import { checkSignature, signKey, type SignatureCheck } from './signature';
import type { Storage, StoredObject } from './storage';

export interface LocalStorageOptions {
  /** Root directory (DATA_DIR/storage): objects/<key>, meta/<key>.json, tmp/. */
  readonly dir: string;
  /** Base of signed URLs: `${publicUrl}/api/storage/<key>?exp=..&sig=..`. */
  readonly publicUrl: string;
  /** HMAC secret of signed URLs. */
  readonly urlSecret: string;
}

/** Route prefix under which the control plane serves local objects (its routes/storage.ts). */
export const LOCAL_STORAGE_ROUTE = '/api/storage';

interface Meta {
  contentType: string;
}

/**
 * Objects as files under one directory, for a single machine. Writes go to tmp/ and are renamed
 * into place, so readers see the old object or the new one, never half of one. Like a file system
 * (unlike S3), a key cannot be both an object and a "folder" of other keys (`a` and `a/b`).
 */
export class LocalStorage implements Storage {
  readonly kind = 'local';
  readonly #objects: string;
  readonly #meta: string;
  readonly #tmp: string;
  readonly #publicUrl: string;
  readonly #urlSecret: string;

  constructor(options: LocalStorageOptions) {
    this.#objects = join(options.dir, 'objects');
    this.#meta = join(options.dir, 'meta');
    this.#tmp = join(options.dir, 'tmp');
    this.#publicUrl = options.publicUrl.replace(/\/+$/, '');
    this.#urlSecret = options.urlSecret;
  }

  async put(key: string, body: Buffer | Readable, contentType: string): Promise<void> {
    assertValidKey(key);
    await mkdir(this.#tmp, { recursive: true });
    const tmp = join(this.#tmp, randomBytes(12).toString('hex'));
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp, { mode: 0o600 }));
      await this.#writeMeta(key, { contentType });
      const file = join(this.#objects, key);
      await mkdir(dirname(file), { recursive: true });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    let handle;
    try {
      handle = await open(join(this.#objects, key), 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        return null;
      }
      const meta = await this.#readMeta(key);
      return { body: handle.createReadStream(), contentType: meta.contentType, size: stat.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await rm(join(this.#objects, key), { force: true });
    await rm(this.#metaFile(key), { force: true });
  }

  /**
   * The prefix's directory tree (objects and their metadata) is first moved aside into tmp/ in one
   * rename, then counted and removed there: a put under the prefix meanwhile lands in a fresh tree
   * and survives, as it would on S3.
   */
  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    const name = prefix.slice(0, -1);
    const objects = await this.#moveAside(join(this.#objects, name));
    const meta = await this.#moveAside(join(this.#meta, name));
    let count = 0;
    try {
      if (objects !== null) {
        const entries = await readdir(objects, { recursive: true, withFileTypes: true });
        count = entries.filter((entry) => entry.isFile()).length;
      }
    } finally {
      await Promise.all([objects, meta].map((dir) => (dir === null ? undefined : rm(dir, { recursive: true, force: true }))));
    }
    return count;
  }

  async signedUrl(key: string, expiresInSec: number): Promise<string> {
    assertValidKey(key);
    const exp = Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(expiresInSec));
    const sig = signKey(this.#urlSecret, key, exp);
    return `${this.#publicUrl}${LOCAL_STORAGE_ROUTE}/${keyToUrlPath(key)}?exp=${exp}&sig=${sig}`;
  }

  /** Checks the `exp` and `sig` query values of a URL made by signedUrl. */
  verify(key: string, exp: string | undefined, sig: string | undefined): SignatureCheck {
    return checkSignature(this.#urlSecret, key, exp, sig);
  }

  /**
   * Renames the directory `dir` into tmp/ and returns its new path; null when there is no such
   * directory (a file there is an object whose key is the prefix without its `/`: not under it).
   */
  async #moveAside(dir: string): Promise<string | null> {
    const aside = join(this.#tmp, randomBytes(12).toString('hex'));
    try {
      if (!(await lstat(dir)).isDirectory()) return null;
      await mkdir(this.#tmp, { recursive: true });
      await rename(dir, aside);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
    return aside;
  }

  #metaFile(key: string) {
    return join(this.#meta, `${key}.json`);
  }

  async #writeMeta(key: string, meta: Meta) {
    const file = this.#metaFile(key);
    const tmp = join(this.#tmp, randomBytes(12).toString('hex'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify(meta), { mode: 0o600 });
    await rename(tmp, file);
  }

  async #readMeta(key: string): Promise<Meta> {
    try {
      return JSON.parse(await readFile(this.#metaFile(key), 'utf8')) as Meta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contentType: 'application/octet-stream' };
      throw err;
    }
  }
}
