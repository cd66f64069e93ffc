/** The signalling URL (node URL + media token) passed to the developer media pages as `?ws=`. */
export function signallingUrl(search: URLSearchParams): string | null {
  const ws = search.get('ws');
  if (!ws) return null;
  try {
    const url = new URL(ws);
    return url.protocol === 'ws:' || url.protocol === 'wss:' ? url.toString() : null;
  } catch {
    return null;
  }
}
