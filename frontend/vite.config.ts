import { defineConfig } from "vite";

// During `npm run dev` the gateway runs separately (default port 8765); proxy the
// REST API and the session paths (HTTP and WebSocket) so the app stays same-origin.
const gateway = process.env.IDE_GATEWAY_URL ?? "http://127.0.0.1:8765";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The IDE chunk (CodeMirror and Yjs) is loaded lazily, once a session is ready.
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/sessions": { target: gateway, changeOrigin: false, ws: true },
    },
  },
});
