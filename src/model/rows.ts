import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { queryTemplates, type PlanReuse } from "../db/compiled";
import { valueDecoder } from "./column-decoders";
import { compileRowDecoder } from "./record-code";
import type { FieldRule, FieldRules } from "./fields";

/**
 * Records travel through the framework as plain objects with the entity's prototype:
 * columns by property name, relations as `{ <target pk>: value }` stubs. They are built
 * from raw rows, without TypeORM's entity hydration, which is most of a request's cost.
 */
export type RecordOf<T> = T & ObjectLiteral;

/** A prepared way to select and decode the columns of one entity. */
export class RowReader {
  private readonly aliases: string[];
  /** A row into a record, written as code once (src/model/record-code.ts): every row of every response goes through it. */
  private readonly decodeRow: (row: ObjectLiteral) => ObjectLiteral;

  /**
   * @param columns what it selects: by default every column (hooks may look at hidden ones);
   *   a reader for records that are only shown selects the shown ones (see {@link shownColumns}).
   * @param prefix of the column aliases: another than the record's own when joined into its query.
   */
  constructor(private readonly rules: FieldRules, private readonly dataSource: DataSource, private readonly columns = rules.loadColumns, prefix = "f") {
    this.aliases = columns.map((_, index) => `${prefix}${index}`);
    // A join column becomes its relation's stub (`author: { id }`), so a row's foreign keys read like relations.
    const relationByColumn = new Map<ColumnMetadata, string>();
    for (const rule of rules.all) if (rule.relation) relationByColumn.set(rule.column, rule.name);
    const prototype = (rules.metadata.target as { prototype?: object }).prototype ?? Object.prototype;
    this.decodeRow = compileRowDecoder(prototype, columns.map((column, index) => {
      const relation = relationByColumn.get(column);
      return relation
        ? { alias: this.aliases[index]!, property: relation, decodeValue: valueDecoder(dataSource, column.referencedColumn!), stubKey: column.referencedColumn!.propertyName }
        : { alias: this.aliases[index]!, property: column.propertyName, decodeValue: valueDecoder(dataSource, column), decodesNull: column.transformer !== undefined };
    }));
  }

  /** A query for this entity with its columns selected under stable aliases. */
  query(manager: EntityManager, alias: string): SelectQueryBuilder<ObjectLiteral> {
    return this.selectInto(manager.createQueryBuilder(this.rules.metadata.target, alias).select([]), alias);
  }

  /** Adds this reader's columns of `alias` (this entity, joined into another query) to a query's selects. */
  selectInto(qb: SelectQueryBuilder<ObjectLiteral>, alias: string): SelectQueryBuilder<ObjectLiteral> {
    const escapedAlias = qb.escape(alias);
    this.columns.forEach((column, index) => {
      qb.addSelect(`${escapedAlias}.${qb.escape(column.databaseName)}`, this.aliases[index]);
    });
    return qb;
  }

  /**
   * Adds this reader's columns of the row of this entity that `where` finds (`alias` names the
   * table in it) to a query's selects, one scalar sub-select per column: a related record read
   * in its record's statement without a join (see joinRelated). Columns read null when no row
   * matches.
   */
  selectEachFrom(qb: SelectQueryBuilder<ObjectLiteral>, table: string, alias: string, where: string): SelectQueryBuilder<ObjectLiteral> {
    const escapedAlias = qb.escape(alias);
    this.columns.forEach((column, index) => {
      qb.addSelect(`(SELECT ${escapedAlias}.${qb.escape(column.databaseName)} FROM ${table} ${escapedAlias} WHERE ${where})`, this.aliases[index]);
    });
    return qb;
  }

  /** Runs a query built from {@link query} (parameters bound, statement prepared once per shape) and decodes its rows. */
  async load(qb: SelectQueryBuilder<ObjectLiteral>, manager: EntityManager, plan: PlanReuse = "per-call"): Promise<RecordOf<ObjectLiteral>[]> {
    return this.decode(await queryTemplates(this.dataSource).rawRows(qb, manager, plan));
  }

  /** Turns raw rows into records, with the driver's own type conversions. */
  decode(rows: ObjectLiteral[]): RecordOf<ObjectLiteral>[] {
    const records: RecordOf<ObjectLiteral>[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) records[r] = this.decodeRow(rows[r]!);
    return records;
  }

  /** One raw row into a record. */
  decodeOne(row: ObjectLiteral): RecordOf<ObjectLiteral> {
    return this.decodeRow(row);
  }

  /** The pk of a record. */
  pkOf(record: ObjectLiteral): unknown {
    return record[this.rules.pk.name];
  }
}

/** The columns a response can show of an entity: its pk and its readable fields (relations by their join column). */
export function shownColumns(rules: FieldRules): ColumnMetadata[] {
  const shown = new Set([rules.pk.column, ...rules.readable.map((rule) => rule.column)]);
  return rules.loadColumns.filter((column) => shown.has(column));
}

/** The pk a relation stub or hydrated object points at, or null. */
export function relationPk(value: unknown, targetPk: ColumnMetadata): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return (value as ObjectLiteral)[targetPk.propertyName] ?? null;
  return value;
}

/** A field's value as answers give it: a relation as its pk, a date as ISO 8601 text. */
export function answeredValue(rule: FieldRule, record: ObjectLiteral): unknown {
  const value = rule.relation ? relationPk(record[rule.name], rule.targetPk!) : record[rule.name];
  return value instanceof Date ? value.toISOString() : value;
}

/** A key that identifies a record across entities, for cycle detection and caches. */
export function recordKey(entityName: string, pk: unknown): string {
  return `${entityName}#${String(pk)}`;
}
