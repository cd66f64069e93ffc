// Environment of the web process when it runs behind the control plane (npm start, tests): the
// control plane proxies pages here with X-Forwarded-For/-Host/-Proto, so the app sees the browser's
// address (per-IP rate limits at the API) and the origin the browser used (SvelteKit's form
// CSRF check), whatever host name the browser typed. Plain JS: deploy/dev/start.mjs imports it too.

/** @param {string} apiUrl where this process reaches the control plane's API */
export function behindProxyEnv(apiUrl) {
  return {
    API_URL: apiUrl,
    ADDRESS_HEADER: 'x-forwarded-for',
    // The control plane appends the browser's address last.
    XFF_DEPTH: '1',
    HOST_HEADER: 'x-forwarded-host',
    PROTOCOL_HEADER: 'x-forwarded-proto',
    // Avatars up to 5 MB go through a form action (the API's own limit); adapter-node's default is 512 KB.
    BODY_SIZE_LIMIT: '6M',
  };
}
