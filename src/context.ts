import type { Request, Response } from "express";
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { ModelEndpoint } from "./model/endpoint";
import type { ResponseCommands } from "./rpc/commands";
import type { UploadedFile } from "./http/body";

/**
 * What every endpoint, hook and op gets besides the request: who is calling, with what,
 * and where to read and write. Inside a write, `manager` is the transaction's manager.
 */
export interface RequestContext<P = Record<string, unknown>, U = any> {
  req: Request;
  res: Response;
  /** The logged-in user, or null. */
  user: U | null;
  /** Whether the user is staff, by the router's `auth.isStaff`. */
  isStaff: boolean;
  app: string;
  /** The endpoint or model name. */
  name: string;
  /** The op: `call` for ad-hoc endpoints, else `create`, `get`, `list`, a tag command, ... */
  op: string;
  /** The request body, parsed (and validated, where the endpoint has a schema). */
  params: P;
  /** Files of a multipart body. */
  files: UploadedFile[];
  /** True when the body was a form or multipart (every value a string). */
  fromForm: boolean;
  dataSource: DataSource;
  /** The transaction's manager inside a write, else the DataSource's. */
  manager: EntityManager;
  /** Set inside a batch: the batch's transaction, which every op of the batch joins (see `throughGate`). */
  ambient?: EntityManager;
  /** Commands for the page (Sijax's obj_response): `ctx.commands.alert("Hi")`. */
  commands: ResponseCommands;
  /**
   * The endpoint this router serves an entity's records with (its scope, rules and `canGet`),
   * for one endpoint's policy inside another's or in an ad-hoc endpoint:
   * `ctx.endpointFor(Article).narrowToVisible(qb, ctx)`. An entity without an endpoint of its own
   * gets the stand-in that shows nothing but the pk.
   */
  endpointFor<E extends ObjectLiteral>(entity: EntityTarget<E>): ModelEndpoint<E>;
}
