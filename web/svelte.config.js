import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    csp: { mode: 'auto', directives: { 'default-src': ['self'], 'connect-src': ['self', 'ws:', 'wss:'], 'media-src': ['self', 'blob:'], 'img-src': ['self', 'data:', 'blob:'], 'style-src': ['self', 'unsafe-inline'], 'frame-ancestors': ['none'] } },
  },
};
