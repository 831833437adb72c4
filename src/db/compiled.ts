import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from "typeorm";
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
}

const MARKER = "\u0000ajax-slot\u0000";
const MAX_TEMPLATES = 2000;

export class QueryTemplates {
  private readonly templates = new Map<string, Template>();
  private readonly sqlite: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.sqlite = dataSource.options.type === "better-sqlite3";
  }

  /** Runs a select built with the query builder and answers its raw rows. */
  async rawRows(qb: SelectQueryBuilder<ObjectLiteral>, manager: EntityManager): Promise<ObjectLiteral[]> {
    const [sql, values] = this.bind(qb.getQuery(), qb.getParameters());
    return manager.query(sql, values);
  }

  /** Placeholder SQL and the values to bind, for SQL with `:name` and `:...name` parameters. */
  bind(query: string, parameters: ObjectLiteral): [string, unknown[]] {
    let key = query;
    for (const name in parameters) {
      const value = parameters[name];
      if (Array.isArray(value)) key += `\u0001${name}=${value.length}`;
      else if (typeof value === "function") key += `\u0001${name}()`;
    }
    let template = this.templates.get(key);
    if (!template) {
      template = this.compile(query, parameters);
      if (this.templates.size >= MAX_TEMPLATES) this.templates.delete(this.templates.keys().next().value!);
      this.templates.set(key, template);
    }
    const values = template.slots.map(({ name, index }) => {
      const value = index >= 0 ? (parameters[name] as unknown[])[index] : parameters[name];
      return this.sqlite && value instanceof Date ? DateUtils.mixedDateToUtcDatetimeString(value) : value;
    });
    return [template.sql, values];
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
