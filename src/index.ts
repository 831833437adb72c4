/**
 * ajax-endpoints: secure JSON endpoints for the browser from TypeORM entities, and server
 * functions a page can call. This file only re-exports the public API.
 */
import "reflect-metadata";

export { createAjax, type Ajax, type AjaxOptions, type SessionOptions } from "./router";
export { LiveFeed, relayLiveNotes, DEFAULT_LIVE_LIMITS, type LiveOptions, type LiveLimits, type ChangeNote, type Change } from "./live";
export { DEFAULT_MAX_BATCH_OPS, type BatchOptions } from "./batch/batch";
export { AJAXError, Messages, fieldError, type FieldErrors, type AJAXErrorExtra } from "./errors";
export type { SuccessEnvelope, ListEnvelope, ErrorEnvelope } from "./envelope";
export { defineApp, AjaxApp, Registry } from "./registry";
export {
  endpoint, loginRequired, type AdHocEndpoint, type EndpointHandler, type EndpointOptions, type AjaxTypes, type AppUser, type ParamsOf,
} from "./adhoc";
export type { RequestContext } from "./context";
export type { CallHooks } from "./http/dispatch";
export type { UploadedFile, BodyLimits, FileLimits } from "./http/body";
export {
  ModelEndpoint, MODEL_OPS, type ModelOpName, type RecordOpDefinition, type ModelOpDefinition, type EndpointRuntime,
} from "./model/endpoint";
export { modelEndpoint, type ModelEndpointConfig, type FieldOf, type FeatureFilterNames, type FilterName } from "./model/define";
export { FILTER_OPS, type FilterOp } from "./model/list";
export { SECRET_NAME, type FieldRule } from "./model/fields";
export { ResponseCommands, type ResponseCommand, type ChangeMode } from "./rpc/commands";
export {
  WireTypes, registerDateType, encodeDate, decodeDate, TYPE_KEY, type TypeEncoder, type TypeDecoder,
} from "./rpc/types";
export { ajax, type AjaxViewOptions, type AjaxViewHandler } from "./http/ajax-view";
export { apiSecurityHeaders, pageSecurityHeaders } from "./http/security-headers";
export { CsrfProtection, CSRF_COOKIE, CSRF_SECRET_COOKIE, CSRF_HEADER, CSRF_FIELD, type CsrfOptions } from "./auth/csrf";
export { refuseUnknownFields, validateParams } from "./params";
export { requireEntity } from "./db/require-entity";
export { createAjaxServer, DEFAULT_SERVER_TIMEOUTS, type ServerTimeouts } from "./http/server";
export { requestLog, type RequestLogOptions } from "./http/request-log";
export { HEALTH_CHECK_TIMEOUT_MS, type HealthChecks, type HealthState } from "./http/health";
export { MissingPackageError } from "./optional";
export { jsonForScript, escapeHtml } from "./client/escape";
export { describeRegistry, type InterfaceDescription, type EndpointDescription, type ModelDescription } from "./client/interface";
export { buildOpenApiDocument, type OpenApiDocument, type OpenApiOptions, type OpenApiSource } from "./openapi/document";
export type { JsonSchema } from "./openapi/schemas";
export { generateClient } from "./openapi/client";
export type { AuthOptions } from "./auth/auth";
export { hashPassword, verifyPassword } from "./auth/passwords";
export { AjaxSession } from "./auth/session-entity";
export { DatabaseSessionStore, purgeExpiredSessions } from "./auth/session-store";
export { gateOf, DatabaseGate } from "./db/gate";
export { mysqlDriverWithUtcSessions } from "./db/mysql";
export { withStatementTimeout, DEFAULT_STATEMENT_TIMEOUT_MS } from "./db/timeouts";
export { runMigrationsExclusively } from "./db/migrations";
export { Tag, TaggedItem } from "./tags/entities";
export { tags, type TagsOptions } from "./tags/feature";
export { softDelete, type SoftDeleteOptions } from "./soft-delete/feature";
// What a feature's own ops build on: the record through the scope, the encoding, the write announcement, the gate.
export { loadVisibleRecord, announceWrite, type RecordUse } from "./model/ops";
export { encodeRecords } from "./model/hydrate";
export { throughGate } from "./db/gate";
export { audit, type HistoryEntry } from "./audit/feature";
export { AuditEntry } from "./audit/entity";
export { EndpointFeatures, type EndpointFeature, type FeatureRecordOp, type FeatureFilter, type FeatureOpenApi, type FeatureSchema, type WriteEvent, type ReadPurpose, type ReadRows, type RowKeeper } from "./model/feature";
export { parseTagString, readTagNames, slugify } from "./tags/parse";
export type { TagData } from "./tags/store";
export { createSearchIndex, dropSearchIndex, type SearchTarget } from "./search/migration";
export { MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS, MAX_TERM_LENGTH } from "./search/terms";

