import type { NextConfig } from "next";

// Where the accounts API listens. Read once, by `next build`: Next writes rewrite targets into
// the build (routes-manifest.json) and inlines `env` values into the server code, so changing
// API_URL means building again.
const apiUrl = (process.env.API_URL ?? "http://127.0.0.1:8081").replace(/\/$/, "");

const nextConfig: NextConfig = {
  env: { API_URL: apiUrl },
  poweredByHeader: false,
  // The browser talks to the API through this app's own origin, so the API's cookies are
  // first-party cookies of this site (and SameSite=Lax lets them through).
  async rewrites() {
    return [{ source: "/api/auth/:path*", destination: `${apiUrl}/api/auth/:path*` }];
  },
};

export default nextConfig;
