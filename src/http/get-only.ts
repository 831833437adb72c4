import type { NextFunction, Request, Response } from "express";
import { AJAXError, Messages } from "../errors";

/** Middleware of the mount's GET routes: any method but GET and HEAD is a `405` with `Allow: GET, HEAD`. */
export function getOnly(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === "GET" || req.method === "HEAD") return next();
  next(new AJAXError(405, Messages.methodNotAllowed, { headers: { Allow: "GET, HEAD" } }));
}
