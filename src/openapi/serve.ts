import { dirname, join } from "node:path";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { escapeHtml } from "../client/escape";
import { getOnly } from "../http/get-only";
import { AJAXError } from "../errors";
import { pageSecurityHeaders } from "../http/security-headers";
import { MissingPackageError, resolveOptional } from "../optional";
import type { OpenApiDocument } from "./document";

/**
 * Swagger UI's files, served from the installed package (never a CDN). swagger-ui-dist is an
 * optional peer dependency: without it `openapi.json` is served and the docs page says what to install.
 */
function swaggerUiDir(): string | MissingPackageError {
  try {
    return dirname(resolveOptional("swagger-ui-dist", "package.json", "The docs page (/docs)"));
  } catch (error) {
    if (error instanceof MissingPackageError) return error;
    throw error;
  }
}
const SWAGGER_UI_FILES: ReadonlyMap<string, string> = new Map([
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["swagger-ui-bundle.js", "application/javascript; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
]);
const PAGE_SCRIPT = "ajax-docs.js";

/**
 * Starts Swagger UI on the page's document. Try-it-out sends the session cookie and the
 * `X-CSRFToken` header from the `csrftoken` cookie (read on every request: login rotates it);
 * the token is fetched first when the page has none. No validator badge: it would call out.
 */
const PAGE_SCRIPT_TEXT = `(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  function readCookie(name) {
    var parts = document.cookie.split(";");
    for (var i = 0; i < parts.length; i++) {
      var index = parts[i].indexOf("=");
      if (index > 0 && parts[i].slice(0, index).trim() === name) return decodeURIComponent(parts[i].slice(index + 1).trim());
    }
    return null;
  }
  function start() {
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      withCredentials: true,
      validatorUrl: null,
      tryItOutEnabled: false,
      requestInterceptor: function (request) {
        var token = readCookie("csrftoken");
        if (request.method && request.method.toUpperCase() !== "GET" && token) request.headers["X-CSRFToken"] = token;
        request.credentials = "same-origin";
        return request;
      }
    });
  }
  if (readCookie("csrftoken")) start();
  else fetch(root.getAttribute("data-csrf-url"), { credentials: "same-origin" }).then(start, start);
})();
`;

function docsPage(mount: string, title: string): string {
  const at = (path: string) => escapeHtml(`${mount}${path}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/png" href="${at("/docs/assets/favicon-32x32.png")}">
<link rel="stylesheet" href="${at("/docs/assets/swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui" data-spec-url="${at("/openapi.json")}" data-csrf-url="${at("/csrf.json")}"></div>
<script src="${at("/docs/assets/swagger-ui-bundle.js")}"></script>
<script src="${at(`/docs/assets/${PAGE_SCRIPT}`)}"></script>
</body>
</html>
`;
}

/** Keeps a few texts per mount path (a mount with parameters gives many; the rest are built per request). */
function perMount(build: (mount: string) => string): (mount: string) => string {
  const cache = new Map<string, string>();
  return (mount) => {
    let text = cache.get(mount);
    if (text === undefined) {
      text = build(mount);
      if (cache.size < 16) cache.set(mount, text);
    }
    return text;
  };
}

/**
 * `GET /openapi.json`, `GET /docs` and the docs page's assets under the mount. The document is
 * built once, at start-up; each mount path gets it with its own `servers` entry (from
 * `req.baseUrl`, so the router may be mounted anywhere). Any other method is a `405`.
 */
export function openApiRoutes(document: OpenApiDocument): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const documentText = perMount((mount) => JSON.stringify({ ...document, servers: [{ url: mount || "/" }] }));
  const pageText = perMount((mount) => docsPage(mount, String(document.info.title ?? "API")));

  router.all("/openapi.json", getOnly, (req: Request, res: Response) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.send(documentText(req.baseUrl));
  });
  const swaggerUi = swaggerUiDir();
  if (swaggerUi instanceof MissingPackageError) {
    router.all(["/docs", "/docs/assets/*splat"], getOnly, (_req: Request, _res: Response, next: NextFunction) => {
      next(new AJAXError(404, swaggerUi.message));
    });
    return router;
  }
  // swagger-ui sets styles inline and shows data: images.
  router.all("/docs", getOnly, pageSecurityHeaders({ imgData: true, inlineStyles: true }), (req: Request, res: Response) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.send(pageText(req.baseUrl));
  });
  router.all(`/docs/assets/${PAGE_SCRIPT}`, getOnly, (_req: Request, res: Response) => {
    res.setHeader("Content-Type", "application/javascript; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.send(PAGE_SCRIPT_TEXT);
  });
  for (const [file, type] of SWAGGER_UI_FILES) {
    router.all(`/docs/assets/${file}`, getOnly, (_req: Request, res: Response) => {
      res.setHeader("Content-Type", type);
      res.sendFile(join(swaggerUi, file), { maxAge: "1d" });
    });
  }
  return router;
}
