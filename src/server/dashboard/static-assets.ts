import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";

type Asset = { body: Buffer; gzip: Buffer; etag: string; type: string };

/**
 * The page's script: app.js and the ES modules it imports (relative imports, `from "./dom.js"`,
 * resolved by the browser against /dashboard/app.js).
 */
const SCRIPTS = [
  "app.js",
  "dom.js",
  "format.js",
  "api.js",
  "controls.js",
  "state.js",
  "charts.js",
  "overview.js",
  "live.js",
  "workflow.js",
  "input.js",
  "task-cards.js",
  "task-page.js",
];

/** URL path -> file under ./assets (copied beside the built module by tools/copy-assets.mjs). */
const FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  ...Object.fromEntries(
    SCRIPTS.map((file) => [`/dashboard/${file}`, [file, "text/javascript; charset=utf-8"]] as const),
  ),
  "/dashboard/app.css": ["app.css", "text/css; charset=utf-8"],
  "/dashboard/favicon.svg": ["favicon.svg", "image/svg+xml"],
};

/** The page may load and talk to this origin only: no inline script, nothing from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The dashboard's files, read once and kept in memory with their gzip and ETag: the page works
 * with no network beyond this server, and a reload costs a 304.
 */
export class StaticAssets {
  private readonly cache = new Map<string, Asset>();

  has(path: string): boolean {
    return Object.hasOwn(FILES, path);
  }

  serve(path: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = this.load(path);
    const headers: Record<string, string> = {
      "content-type": asset.type,
      etag: asset.etag,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      vary: "accept-encoding",
    };
    if (asset.type.startsWith("text/html")) {
      headers["content-security-policy"] = CSP;
      headers["x-frame-options"] = "DENY";
    }
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers["content-encoding"] = "gzip";
    headers["content-length"] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  }

  private load(path: string): Asset {
    const known = this.cache.get(path);
    if (known) return known;
    const [file, type] = FILES[path]!;
    const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
    const etag = `"${createHash("sha1").update(body).digest("base64url").slice(0, 20)}"`;
    const asset = { body, gzip: gzipSync(body), etag, type };
    this.cache.set(path, asset);
    return asset;
  }
}
