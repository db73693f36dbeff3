/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

import { precompiledMessages, reportJsSize } from '../shared/src/vite';

// The UI talks only to /graphql (HTTP and WebSocket) and /auth; in development Vite
// forwards them to the gateway and AuthApi so that the TokenId cookie stays same-origin.
const gateway = process.env.NUDGES_GATEWAY_URL ?? 'http://127.0.0.1:4000';
const auth = process.env.NUDGES_AUTH_URL ?? 'http://127.0.0.1:4001';

export default defineConfig({
  plugins: [react(), precompiledMessages(/\/(src\/i18n\/(en|es|fr|de)|shared\/src\/messages)\.ts$/), reportJsSize('admin')],
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/graphql': { target: gateway, ws: true, changeOrigin: false },
      '/auth': { target: auth, changeOrigin: false },
    },
  },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: { sourcemap: true, target: 'es2022' },
  test: {
    environment: 'jsdom',
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
