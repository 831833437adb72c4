import { createHash } from "node:crypto";
import { QueryFailedError } from "typeorm";
import type { DataSource, DeleteQueryBuilder, EntityManager, InsertQueryBuilder, ObjectLiteral, QueryRunner, SelectQueryBuilder, UpdateQueryBuilder } from "typeorm";
import type { Driver } from "typeorm/driver/Driver";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { DateUtils } from "typeorm/util/DateUtils";

/**
 * SQL with every parameter bound, built once per query shape.
 *
 * TypeORM's SQLite drivers write numeric parameters into the SQL text, so `WHERE id = 7` and
 * `WHERE id = 8` are two statements to prepare, and its prepared-statement cache never hits
 * for a read by pk; its `getRawMany` also does work per call that a framework-built query
 * does not need. A query builder's SQL before parameters (`getQuery()`) is the same for every
 * request of one shape, so this turns it into placeholder SQL once, with TypeORM's own driver
 * (every dialect works), remembers which named parameter goes where, and from then on only
 * binds values: one cached prepared statement per shape.
 */
interface Template {
  sql: string;
  /** For each placeholder, in order: the parameter's name, and its index when it is an array. */
  slots: Array<{ name: string; index: number }>;
  /** PostgreSQL: the prepared statement's name, given on first run. */
  name?: string;
  /** better-sqlite3: the statement, prepared on first run, and the connection it belongs to (a DataSource may be destroyed and initialized again). */
  statement?: SqliteStatement;
  connection?: SqliteConnection;
}

/**
 * Whether a statement's plan may be kept across runs: `by-key` for one that reads by pk or
 * unique key or writes one row (no value can make another plan better), `per-call` for one
 * whose best plan depends on its values (lists, counts, searches).
 */
export type PlanReuse = "by-key" | "per-call";

/** What a statement did: its rows, how many rows it changed, the id an insert generated (SQLite, MariaDB). */
interface Executed {
  rows: ObjectLiteral[];
  affected: number;
  insertId: unknown;
}

/** The part of a `pg` client used here. */
interface PostgresClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows?: ObjectLiteral[]; rowCount?: number | null }>;
}

/** A driver as the write builders use it: SQLite's wraps some column types' values in a JSON function. */
type WritingDriver = Driver & { wrapWithJsonFunction?(value: string, column: ColumnMetadata, jsonb: boolean): string };

/** Whether the driver writes a column's value through a JSON function (SQLite's JSON columns): such writes are left to TypeORM. */
function wrapsInJson(driver: WritingDriver, placeholder: string, column: ColumnMetadata): boolean {
  return driver.wrapWithJsonFunction !== undefined && driver.wrapWithJsonFunction(placeholder, column, true) !== placeholder;
}

/**
 * Whether a write to `metadata`'s table may be written here rather than by TypeORM's builders:
 * not where entity subscribers must hear of it, nor for embedded columns or a table in another
 * schema or database, which the builders name and fill in their own way.
 */
function writesItself(dataSource: DataSource, metadata: EntityMetadata): boolean {
  return dataSource.subscribers.length === 0 && !metadata.schema && !metadata.database && metadata.embeddeds.length === 0;
}

/** The parts of a better-sqlite3 statement and connection used here. */
interface SqliteStatement {
  reader: boolean;
  all(...values: unknown[]): ObjectLiteral[];
  run(...values: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

/** `AJAX_VERIFY_SHAPES=1`: every reuse of a shape's SQL is checked against the builder's own (for the test suite). */
const VERIFY_SHAPES = process.env.AJAX_VERIFY_SHAPES === "1";
const MARKER = "\u0000ajax-slot\u0000";
const MAX_TEMPLATES = 2000;

export class QueryTemplates {
  private readonly templates = new Map<string, Template>();
  private readonly sqlite: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === "better-sqlite3";
  }

  /**
   * Runs a select built with the query builder and answers its raw rows. The builder's SQL is
   * generated (`getQuery()`, most of a query builder's cost) only the first time its shape is
   * seen: the shape is read from what the builder was told (selects, joins, conditions, order,
   * limits), which decides the SQL; the row scope and features still run on every request, so a
   * user whose scope adds other conditions has another shape.
   */
  async rawRows(qb: SelectQueryBuilder<ObjectLiteral>, manager: EntityManager, plan: PlanReuse = "per-call"): Promise<ObjectLiteral[]> {
    const parameters = qb.getParameters();
    const shape = shapeOf(qb);
    const template = shape === undefined ? this.template(qb.getQuery(), parameters) : this.template(shape, parameters, () => qb.getQuery());
    const values = this.values(template, parameters);
    if (VERIFY_SHAPES && shape !== undefined) {
      const built = qb.getQuery();
      const [expected, expectedValues] = this.bind(built, parameters);
      if (expected !== template.sql || JSON.stringify(expectedValues) !== JSON.stringify(values)) throw new Error(`ajax-endpoints: query shape reused for different SQL:\n${template.sql}\n${expected}`);
    }
    return (await this.execute(manager, template, values, plan)).rows;
  }

  /** Runs SQL with `:name` parameters (generated once, e.g. by a query builder at first use) and answers its rows. */
  async rowsOf(query: string, parameters: ObjectLiteral, manager: EntityManager, plan: PlanReuse = "per-call"): Promise<ObjectLiteral[]> {
    return (await this.run(manager, query, parameters, plan)).rows;
  }

  /** Runs SQL with `:name` parameters through its template (compiled the first time): {@link execute} with the values bound. */
  private run(manager: EntityManager, query: string, parameters: ObjectLiteral, plan: PlanReuse): Promise<Executed> {
    const template = this.template(query, parameters);
    return this.execute(manager, template, this.values(template, parameters), plan);
  }

  /**
   * Runs a template's SQL with its values on the manager's connection (its open transaction,
   * if any) and answers rows, affected rows and the generated id of an insert.
   *
   * Without entity subscribers (which hear of every query) or a slow-query limit to time,
   * TypeORM's query runner is left out where it only adds cost: on better-sqlite3 a statement
   * runs straight on its prepared statement, one synchronous call (the runner adds four awaits
   * and its event objects to each; there is one connection, so this is inside the transaction
   * open on it). On PostgreSQL a statement whose plan does not depend on its values (`by-key`:
   * reads by pk or unique key, writes of one row) runs as a named prepared statement on the
   * runner's client, so the server parses and plans it once per connection instead of on every
   * request. Others (a list's page and count) are planned for their values each time: after
   * five runs PostgreSQL may switch a named statement to a generic plan, and for a list's count
   * under the example's scope that plan read the whole `published` index (9.4 ms against about
   * 1.5 ms planned for the values). Either way it is logged as TypeORM would (`logging`, custom
   * loggers), and a failure is the same QueryFailedError.
   */
  private async execute(manager: EntityManager, template: Template, values: unknown[], plan: PlanReuse): Promise<Executed> {
    // The manager's own DataSource: the one whose connection (and open transaction) the work is on.
    const dataSource = manager.connection;
    const type = dataSource.options.type;
    const plain = dataSource.subscribers.length === 0 && !dataSource.options.maxQueryExecutionTime;
    if (plain && type === "better-sqlite3") return this.runOnSqlite(dataSource, template, values);
    const runner: QueryRunner = manager.queryRunner ?? dataSource.createQueryRunner();
    try {
      if (plain && type === "postgres" && plan === "by-key") return await this.runOnPostgres(dataSource, runner, template, values);
      const result = await runner.query(template.sql, values, true) as { records?: ObjectLiteral[]; affected?: number; raw: unknown };
      const insertId = type === "mysql" || type === "mariadb" ? (result.raw as { insertId?: unknown } | undefined)?.insertId
        : type === "postgres" ? undefined : result.raw;
      return { rows: result.records ?? (Array.isArray(result.raw) ? result.raw as ObjectLiteral[] : []), affected: result.affected ?? 0, insertId };
    } finally {
      if (runner !== manager.queryRunner) await runner.release();
    }
  }

  private runOnSqlite(dataSource: DataSource, template: Template, values: unknown[]): Executed {
    const logger = dataSource.logger;
    const connection = (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
    const bound = values.map((value) => (typeof value === "boolean" ? (value ? 1 : 0) : value));
    logger.logQuery(template.sql, bound);
    try {
      if (template.connection !== connection) {
        template.statement = connection.prepare(template.sql);
        template.connection = connection;
      }
      const statement = template.statement!;
      if (statement.reader) return { rows: statement.all(...bound), affected: 0, insertId: undefined };
      const { changes, lastInsertRowid } = statement.run(...bound);
      return { rows: [], affected: changes, insertId: lastInsertRowid };
    } catch (error) {
      logger.logQueryError(error as Error, template.sql, bound);
      throw new QueryFailedError(template.sql, bound, error as Error);
    }
  }

  private async runOnPostgres(dataSource: DataSource, runner: QueryRunner, template: Template, values: unknown[]): Promise<Executed> {
    const logger = dataSource.logger;
    const client = await runner.connect() as PostgresClient;
    logger.logQuery(template.sql, values, runner);
    try {
      // Named by the SQL's hash: the same text is the same statement on every connection of the
      // pool, however often the template is made again (after eviction from the cache).
      template.name ??= `ajax_${createHash("sha1").update(template.sql).digest("hex").slice(0, 24)}`;
      const raw = await client.query({ name: template.name, text: template.sql, values });
      return { rows: raw.rows ?? [], affected: raw.rowCount ?? 0, insertId: undefined };
    } catch (error) {
      logger.logQueryError(error as Error, template.sql, values, runner);
      throw new QueryFailedError(template.sql, values, error as Error);
    }
  }

  /**
   * Runs an update or delete built with the query builder with its parameters bound (the
   * SQLite driver would write numbers into the text: a new statement to prepare for every pk
   * and version) and answers how many rows it changed. With entity subscribers registered the
   * builder runs it itself, so that they are told as before.
   */
  async affectedRows(qb: UpdateQueryBuilder<ObjectLiteral> | DeleteQueryBuilder<ObjectLiteral>, manager: EntityManager): Promise<number> {
    if (this.dataSource.subscribers.length > 0) return (await qb.execute()).affected ?? 0;
    // getQuery() first: it adds the parameters of the SET clause.
    const query = qb.getQuery();
    const parameters = qb.getParameters();
    return (await this.run(manager, query, parameters, "by-key")).affected;
  }

  /**
   * Updates the one row of `metadata` whose `keys` (pk, and version when given) hold these
   * values, with `changes` (property → value, or a function answering SQL), and answers how many
   * rows it changed. The SQL is written here as TypeORM's update builder writes it (join columns
   * by the related pk, values through the driver's `preparePersistentValue`, the version column
   * incremented and the update date set unless the changes set them), without the builder's
   * per-write generation; only values are bound. Answers undefined, running nothing, where that
   * is not certain: entity subscribers (the builder tells them), embedded, spatial or JSON-wrapped
   * columns, a table in another schema, a relation value without its pk.
   */
  async updateByKeys(manager: EntityManager, metadata: EntityMetadata, changes: ObjectLiteral, keys: ReadonlyArray<readonly [ColumnMetadata, unknown]>): Promise<number | undefined> {
    const dataSource = manager.connection;
    const driver = dataSource.driver as WritingDriver;
    if (!writesItself(dataSource, metadata)) return undefined;
    const sets: string[] = [];
    const parameters: ObjectLiteral = {};
    const updated = new Set<ColumnMetadata>();
    for (const key of Object.keys(changes)) {
      if (changes[key] === undefined) continue;
      const columns = metadata.findColumnsWithPropertyPath(key);
      if (columns.length !== 1) return undefined;
      const column = columns[0]!;
      if (!column.isUpdate || updated.has(column)) continue;
      if (driver.spatialTypes.includes(column.type as never)) return undefined;
      updated.add(column);
      let value = column.getEntityValue(changes);
      if (column.referencedColumn && typeof value === "object" && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array)) {
        value = column.referencedColumn.getEntityValue(value);
        if (value === undefined) return undefined;
      } else if (typeof value !== "function") {
        value = driver.preparePersistentValue(value, column);
      }
      const target = driver.escape(column.databaseName);
      if (typeof value === "function") {
        sets.push(`${target} = ${(value as () => string)()}`);
        continue;
      }
      const placeholder = `:upd${sets.length}`;
      if (wrapsInJson(driver, placeholder, column)) return undefined;
      parameters[`upd${sets.length}`] = value;
      sets.push(`${target} = ${placeholder}`);
    }
    if (sets.length === 0) return undefined;
    const version = metadata.versionColumn;
    if (version && !updated.has(version)) sets.push(`${driver.escape(version.databaseName)} = ${driver.escape(version.databaseName)} + 1`);
    const updateDate = metadata.updateDateColumn;
    if (updateDate && !updated.has(updateDate)) sets.push(`${driver.escape(updateDate.databaseName)} = CURRENT_TIMESTAMP`);
    const where = keys.map(([column, value], index) => {
      parameters[`key${index}`] = value;
      return `${driver.escape(column.databaseName)} = :key${index}`;
    });
    const sql = `UPDATE ${driver.escape(metadata.tableName)} SET ${sets.join(", ")} WHERE ${where.join(" AND ")}`;
    return (await this.run(manager, sql, parameters, "by-key")).affected;
  }

  /**
   * Inserts one row of `metadata` that gives a value for every insertable column but a
   * database-incremented pk (an audit entry), written as TypeORM's insert builder writes such a
   * row (each value through the driver's `preparePersistentValue`, bound), without the builder's
   * per-insert generation. Answers false, running nothing, where that is not certain: entity
   * subscribers or listeners, a column without a value, a function value, embedded, spatial or
   * JSON-wrapped columns, a table in another schema.
   */
  async insertFullRow(manager: EntityManager, metadata: EntityMetadata, values: ObjectLiteral): Promise<boolean> {
    const dataSource = manager.connection;
    const driver = dataSource.driver as WritingDriver;
    if (!writesItself(dataSource, metadata) || metadata.ownListeners.length > 0) return false;
    const names: string[] = [];
    const placeholders: string[] = [];
    const parameters: ObjectLiteral = {};
    for (const column of metadata.columns) {
      if (!column.isInsert) continue;
      if (column.isPrimary && column.generationStrategy === "increment") continue;
      const value = column.getEntityValue(values);
      if (value === undefined || typeof value === "function" || column.relationMetadata || driver.spatialTypes.includes(column.type as never)) return false;
      const placeholder = `:ins${names.length}`;
      if (wrapsInJson(driver, placeholder, column)) return false;
      parameters[`ins${names.length}`] = driver.preparePersistentValue(value, column);
      names.push(driver.escape(column.databaseName));
      placeholders.push(placeholder);
    }
    const sql = `INSERT INTO ${driver.escape(metadata.tableName)}(${names.join(", ")}) VALUES (${placeholders.join(", ")})`;
    await this.run(manager, sql, parameters, "by-key");
    return true;
  }

  /**
   * Inserts the one row of an insert builder with its parameters bound and answers its pk, as
   * the database generated it: no statement per distinct value, and no read-back of generated
   * columns (the caller reads the record anyway). Only for a pk the database increments, and
   * without entity subscribers or listeners; else answers undefined without running anything,
   * and the caller runs the builder itself.
   */
  async insertReturningPk(qb: InsertQueryBuilder<ObjectLiteral>, manager: EntityManager, pk: ColumnMetadata): Promise<{ pk: unknown } | undefined> {
    const metadata = qb.expressionMap.mainAlias?.hasMetadata ? qb.expressionMap.mainAlias.metadata : undefined;
    if (!metadata || this.dataSource.subscribers.length > 0 || metadata.ownListeners.length > 0 || pk.generationStrategy !== "increment") return undefined;
    const type = this.dataSource.options.type;
    qb.updateEntity(false);
    if (type === "postgres") qb.returning(this.dataSource.driver.escape(pk.databaseName));
    const query = qb.getQuery();
    const parameters = qb.getParameters();
    const executed = await this.run(manager, query, parameters, "by-key");
    const generated = type === "postgres" ? executed.rows[0]?.[pk.databaseName] : executed.insertId;
    return { pk: this.dataSource.driver.prepareHydratedValue(generated, pk) };
  }

  /**
   * Placeholder SQL and the values to bind, for SQL with `:name` and `:...name` parameters.
   * With `build`, `query` is a shape key and `build()` gives the SQL the first time.
   */
  bind(query: string, parameters: ObjectLiteral, build?: () => string): [string, unknown[]] {
    const template = this.template(query, parameters, build);
    return [template.sql, this.values(template, parameters)];
  }

  /** The template of a query (or, with `build`, of a shape key), compiled the first time. */
  private template(query: string, parameters: ObjectLiteral, build?: () => string): Template {
    let key = query;
    for (const name in parameters) {
      const value = parameters[name];
      if (Array.isArray(value)) key += `\u0001${name}=${value.length}`;
      else if (typeof value === "function") key += `\u0001${name}()`;
    }
    let template = this.templates.get(key);
    if (!template) {
      template = this.compile(build ? build() : query, parameters);
      if (this.templates.size >= MAX_TEMPLATES) this.templates.delete(this.templates.keys().next().value!);
      this.templates.set(key, template);
    }
    return template;
  }

  /** The values to bind to a template's placeholders, in order. */
  private values(template: Template, parameters: ObjectLiteral): unknown[] {
    return template.slots.map(({ name, index }) => {
      const value = index >= 0 ? (parameters[name] as unknown[])[index] : parameters[name];
      return this.sqlite && value instanceof Date ? DateUtils.mixedDateToUtcDatetimeString(value) : value;
    });
  }

  /** Asks the driver to place every parameter as a marker string (never written inline), then reads the markers back. */
  private compile(query: string, parameters: ObjectLiteral): Template {
    const markers: ObjectLiteral = {};
    for (const name in parameters) {
      const value = parameters[name];
      markers[name] = Array.isArray(value) ? value.map((_, index) => `${MARKER}${name}\u0000${index}`)
        : typeof value === "function" ? value : `${MARKER}${name}\u0000-1`;
    }
    const [sql, placed] = this.dataSource.driver.escapeQueryWithParameters(query, markers);
    const slots = (placed as unknown[]).map((marker) => {
      if (typeof marker !== "string" || !marker.startsWith(MARKER)) throw new Error("ajax-endpoints: unexpected query parameter");
      const [name, index] = marker.slice(MARKER.length).split("\u0000") as [string, string];
      return { name, index: Number(index) };
    });
    return { sql, slots };
  }
}

/**
 * A key that decides a select builder's SQL text, or undefined when the builder uses anything
 * not covered here (sub-queries, CTEs, brackets, entity joins, locks...): those build their SQL
 * every time. Everything `getQuery()` reads for a plain select is in the key.
 */
function shapeOf(qb: SelectQueryBuilder<ObjectLiteral>): string | undefined {
  const map = qb.expressionMap;
  const main = map.mainAlias;
  if (map.queryType !== "select" || !main || !main.hasMetadata || main.subQuery || map.subQuery || map.commonTableExpressions.length > 0
    || map.relationIdAttributes.length > 0 || map.lockMode !== undefined
    || map.selectDistinctOn.length > 0 || map.comment || map.havings.length > 0 || map.extraAppendedAndWhereCondition
    || map.useIndex || map.timeTravel || map.maxExecutionTime > 0 || map.selects.some((s) => typeof s.selection !== "string")) return undefined;
  let key = `\u0002${main.metadata.name}\u0001${main.name}\u0001${map.withDeleted}${map.selectDistinct}${map.aliasNamePrefixingEnabled}`;
  // Aliases a query knows without a join (a sub-select's) decide which `alias.property` names are replaced.
  for (const alias of map.aliases) if (alias.type === "other") key += `\u0001a${alias.name}\u0000${alias.hasMetadata ? alias.metadata.name : ""}`;
  for (const select of map.selects) key += `\u0001s${select.selection}\u0000${select.aliasName ?? ""}`;
  for (const join of map.joinAttributes) {
    if (typeof join.entityOrProperty !== "string" || (join.condition !== undefined && typeof join.condition !== "string") || join.mapToProperty) return undefined;
    key += `\u0001j${join.direction}\u0000${join.entityOrProperty}\u0000${join.alias.name}\u0000${join.condition ?? ""}`;
  }
  for (const where of map.wheres) {
    if (typeof where.condition !== "string") return undefined;
    key += `\u0001w${where.type}\u0000${where.condition}`;
  }
  for (const group of map.groupBys) key += `\u0001g${group}`;
  for (const order in map.orderBys) {
    const value = map.orderBys[order];
    key += `\u0001o${order}\u0000${typeof value === "string" ? value : `${value.order} ${value.nulls ?? ""}`}`;
  }
  return `${key}\u0001l${map.limit}\u0000${map.offset}\u0000${map.skip}\u0000${map.take}`;
}

const byDataSource = new WeakMap<DataSource, QueryTemplates>();

/** The query templates of a DataSource (one set per DataSource). */
export function queryTemplates(dataSource: DataSource): QueryTemplates {
  let templates = byDataSource.get(dataSource);
  if (!templates) {
    templates = new QueryTemplates(dataSource);
    byDataSource.set(dataSource, templates);
  }
  return templates;
}
