import helmet from "helmet";
import type { RequestHandler } from "express";

/**
 * Headers of every answer under the mount (helmet): `nosniff`, so that a browser never reads a
 * JSON answer as HTML or script; a CSP that lets a JSON answer load nothing and be framed by
 * nobody; no referrer across sites. HSTS is left to the site (it depends on how it is served).
 */
export const apiSecurityHeaders: RequestHandler = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { "default-src": ["'none'"], "frame-ancestors": ["'none'"] } },
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: "same-origin" },
});

/**
 * Headers of a page the framework serves (the docs page) or an app serves beside it (the
 * demo page): scripts and styles from the site only, no inline script, `frame-ancestors
 * 'self'` so that another site cannot frame the page and clickjack its buttons.
 */
export function pageSecurityHeaders(extra: { imgData?: boolean; inlineStyles?: boolean } = {}): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": extra.inlineStyles ? ["'self'", "'unsafe-inline'"] : ["'self'"],
        "img-src": extra.imgData ? ["'self'", "data:"] : ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
      },
    },
    frameguard: { action: "sameorigin" },
    strictTransportSecurity: false,
  });
}
