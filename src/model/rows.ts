import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { queryTemplates, type PlanReuse } from "../db/compiled";
import { valueDecoder, type ValueDecoder } from "./column-decoders";
import type { FieldRule, FieldRules } from "./fields";

/**
 * Records travel through the framework as plain objects with the entity's prototype:
 * columns by property name, relations as `{ <target pk>: value }` stubs. They are built
 * from raw rows, without TypeORM's entity hydration, which is most of a request's cost.
 */
export type RecordOf<T> = T & ObjectLiteral;

/** How one selected column becomes a property of a record; a join column (with `stubKey`) becomes its relation's stub. */
interface ColumnDecoder {
  alias: string;
  property: string;
  /** Decodes a non-null value by the column's type: the referenced pk's for a join column. */
  decodeValue: ValueDecoder;
  /** A transformer's `from` is given nulls too (as the driver's `prepareHydratedValue` does); a stub's null stays null. */
  decodesNull?: boolean;
  stubKey?: string;
}

/** A prepared way to select and decode the columns of one entity. */
export class RowReader {
  private readonly aliases: string[];
  /** How each selected column becomes a property: worked out once, as every row of every response goes through {@link decode}. */
  private readonly decoders: ColumnDecoder[];
  private readonly prototype: object;

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
    this.decoders = columns.map((column, index) => {
      const relation = relationByColumn.get(column);
      return relation
        ? { alias: this.aliases[index]!, property: relation, decodeValue: valueDecoder(dataSource, column.referencedColumn!), stubKey: column.referencedColumn!.propertyName }
        : { alias: this.aliases[index]!, property: column.propertyName, decodeValue: valueDecoder(dataSource, column), decodesNull: column.transformer !== undefined };
    });
    this.prototype = (rules.metadata.target as { prototype?: object }).prototype ?? Object.prototype;
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
    const decoders = this.decoders;
    const records: RecordOf<ObjectLiteral>[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const record: ObjectLiteral = Object.create(this.prototype);
      for (let c = 0; c < decoders.length; c++) {
        const { alias, property, decodeValue, decodesNull, stubKey } = decoders[c]!;
        const raw = row[alias];
        if (raw === null || raw === undefined) record[property] = decodesNull && raw === null ? decodeValue(null) : null;
        else if (stubKey !== undefined) {
          const pk = decodeValue(raw);
          record[property] = pk === null ? null : { [stubKey]: pk };
        }
        else record[property] = decodeValue(raw);
      }
      records[r] = record;
    }
    return records;
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
