import type { ObjectLiteral } from "typeorm";
import type { RequestContext } from "../context";
import { queryTemplates } from "../db/compiled";
import { throughGate } from "../db/gate";
import { requireEntity } from "../db/require-entity";
import { AJAXError, Messages } from "../errors";
import type { ModelEndpoint } from "../model/endpoint";
import type { EndpointFeature, WriteEvent } from "../model/feature";
import type { FieldRule } from "../model/fields";
import { loadVisibleRecord } from "../model/ops";
import { answeredValue } from "../model/rows";
import { refuseUnknownFields } from "../params";
import { AuditEntry } from "./entity";

/** A change as `history.json` answers it (CONTRACT.md §10). */
export interface HistoryEntry {
  op: string;
  at: string;
  /** The pk of the user who made the change, or null. */
  user: unknown;
  changes: Record<string, [unknown, unknown]>;
}

const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 100;

/** A field's value as answers show it: dates as ISO strings, relations as their pk. */
function shown(rule: FieldRule, record: ObjectLiteral | undefined): unknown {
  return record ? answeredValue(rule, record) ?? null : null;
}

/**
 * The fields a history shows: readable ones, without those the database changes on every
 * write (the update date, the version), which would only repeat what `at` says.
 */
function historyFields(endpoint: ModelEndpoint): FieldRule[] {
  return endpoint.rules.readable.filter((rule) => !rule.column.isUpdateDate && !rule.column.isVersion && !rule.column.isCreateDate);
}

function changesOf(event: WriteEvent): Record<string, [unknown, unknown]> {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const rule of historyFields(event.endpoint)) {
    // A restore shows the record coming back, as a create does; a delete, going away.
    const before = event.op === "create" || event.op === "restore" ? null : shown(rule, event.before);
    const after = event.op === "delete" ? null : shown(rule, event.after ?? event.before);
    if (JSON.stringify(before) !== JSON.stringify(after)) changes[rule.name] = [before, after];
  }
  return { ...changes, ...event.alsoChanged };
}

function readPage(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === "number" ? value : typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new AJAXError(400, Messages.invalid, { errors: { [field]: ["A valid integer is required."] } });
  return parsed;
}

/**
 * An audit trail: every create, update, delete, restore and tag change of the endpoint's
 * records writes who, when, which op and the changed fields (old and new values, readable
 * fields only) into `AuditEntry` (`ajax_audit`), in the same transaction as the change, so a
 * rolled-back change leaves no entry. `<pk>/history.json` answers a record's history, newest
 * first, paginated (`current_page`, `items_per_page`), to those who may get the record; the
 * fields are checked against the endpoint's rules again when answering, so a field hidden
 * later never shows. List it after the features whose changes it should see (`tags()`).
 *
 * @example class ArticleEndpoint extends ModelEndpoint<Article> { entity = Article; features = [tags(), softDelete(), audit()]; }
 */
export function audit(): EndpointFeature {
  return {
    name: "audit",
    check(endpoint) {
      requireEntity(endpoint.runtime.dataSource, AuditEntry, "AuditEntry", `${endpoint.metadata.name}'s endpoint has an audit trail`);
    },
    async afterWrite(event, ctx) {
      const changes = changesOf(event);
      if (event.op === "update" && Object.keys(changes).length === 0) return;
      const userPk = ctx.user ? event.endpoint.runtime.userPk(ctx.user) : null;
      const entry = {
        model: event.endpoint.metadata.tableName, objectId: String(event.pk), op: event.op, at: new Date(),
        userId: userPk === null || userPk === undefined ? null : String(userPk), changes: JSON.stringify(changes),
      };
      // Bound values, the INSERT written once (src/db/compiled.ts); TypeORM's builder where entity subscribers must hear of it.
      if (!(await queryTemplates(ctx.manager.connection).insertFullRow(ctx.manager, ctx.manager.connection.getMetadata(AuditEntry), entry))) {
        await ctx.manager.createQueryBuilder().insert().into(AuditEntry).values(entry).execute();
      }
    },
    recordOps: {
      history: {
        summary: "The record's changes, newest first",
        readOnly: true,
        body: {
          type: "object", additionalProperties: false,
          properties: { current_page: { type: "integer", minimum: 1, default: 1 }, items_per_page: { type: "integer", minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE } },
        },
        data: {
          type: "array",
          items: {
            type: "object", required: ["op", "at", "user", "changes"], additionalProperties: false,
            properties: {
              op: { type: "string", enum: ["create", "update", "delete", "restore", "tags"] },
              at: { type: "string", format: "date-time" },
              user: { description: "The pk of the user who made the change, or null." },
              changes: { type: "object", additionalProperties: { type: "array", minItems: 2, maxItems: 2, description: "[old, new]" } },
            },
          },
        },
        run: (endpoint, pk, ctx) => history(endpoint, pk, ctx),
      },
    },
  };
}

async function history(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext): Promise<HistoryEntry[]> {
  return throughGate(ctx, "read", async (manager) => {
    await loadVisibleRecord(endpoint, pk, ctx, "check");
    refuseUnknownFields(ctx.params, ["current_page", "items_per_page"]);
    const page = readPage(ctx.params.current_page, 1, "current_page");
    const perPage = Math.min(readPage(ctx.params.items_per_page, DEFAULT_PER_PAGE, "items_per_page"), MAX_PER_PAGE);
    const entries = await manager.getRepository(AuditEntry).createQueryBuilder("entry")
      .where("entry.model = :model AND entry.objectId = :objectId", { model: endpoint.metadata.tableName, objectId: String(pk) })
      .orderBy("entry.id", "DESC").offset((page - 1) * perPage).limit(perPage).getMany();
    // Checked against today's rules: a field hidden since it was written never shows.
    const shownNow = new Set([...historyFields(endpoint).map((rule) => rule.name), ...endpoint.featureSet.list.flatMap((feature) => feature.writableKeys ?? [])]);
    return entries.map((entry) => {
      const stored = JSON.parse(entry.changes) as Record<string, [unknown, unknown]>;
      return {
        op: entry.op, at: new Date(entry.at).toISOString(), user: entry.userId === null ? null : toPk(entry.userId),
        changes: Object.fromEntries(Object.entries(stored).filter(([field]) => shownNow.has(field))),
      };
    });
  });
}

/** A user pk stored as text, back to a number where it was one. */
function toPk(text: string): unknown {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}
