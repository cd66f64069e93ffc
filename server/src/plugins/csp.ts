/** Directives through which the pages load media: hls.js fetches (connect), video, thumbnails. */
const MEDIA_DIRECTIVES = ['connect-src', 'media-src', 'img-src'] as const;

/**
 * A Content-Security-Policy with `origins` allowed where the pages load media from. The web app's
 * policy is built into it ('self' and friends); where objects are served from (an S3 endpoint,
 * for presigned URLs of private recordings) only this server knows, so it adds them to the pages
 * it proxies. Directives the policy lacks are left alone (default-src then applies, unchanged).
 */
export function widenCsp(policy: string, origins: readonly string[]): string {
  if (origins.length === 0) return policy;
  return policy
    .split(';')
    .map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      if (!name || !(MEDIA_DIRECTIVES as readonly string[]).includes(name.toLowerCase())) return part.trim();
      return [name, ...sources, ...origins.filter((o) => !sources.includes(o))].join(' ');
    })
    .filter(Boolean)
    .join('; ');
}
