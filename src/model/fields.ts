import type { EntityMetadata } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { RelationMetadata } from "typeorm/metadata/RelationMetadata";
import { integerRangeOf, valueKindOf, type IntegerRange, type ValueKind } from "./coerce";

/** Column names that are secret unless an endpoint says otherwise (CONTRACT.md §5). */
export const SECRET_NAME = /password|hash|salt|secret|token/i;

/** How one field of an entity behaves on the wire. Built once per endpoint. */
export interface FieldRule {
  /** The property name, as it appears in requests and responses. */
  name: string;
  /** The stored column; for a relation, its join column. */
  column: ColumnMetadata;
  /** Set for many-to-one and owning one-to-one relations. */
  relation?: RelationMetadata;
  /** For a relation: the target's primary-key column. */
  targetPk?: ColumnMetadata;
  kind: ValueKind;
  /** In responses, filters and ordering. */
  readable: boolean;
  /** Accepted in create and update bodies. */
  writable: boolean;
  /** Set by the database or the framework: pk, create/update dates, version, owner. */
  serverSet: boolean;
  /** Required on create. */
  required: boolean;
  nullable: boolean;
  maxLength?: number;
  enumValues?: readonly unknown[];
  /** For integer columns and relations to integer pks: what the column can hold. */
  range?: IntegerRange;
}

/** What an endpoint class says about its fields. */
export interface FieldOptions {
  /** Readable allow-list; when set, nothing else is shown. */
  fields?: readonly string[];
  /** Never shown, filtered or ordered on. */
  hiddenFields?: readonly string[];
  /** Shown but not writable. */
  readOnlyFields?: readonly string[];
  /** Set by the server (`ownerField`, anything the endpoint fills in itself). */
  serverSetFields?: readonly string[];
  /** Columns whose names look secret but are not (`tokenCount`). */
  notSecretFields?: readonly string[];
  /** The longest value of a text column that declares no length. */
  maxTextLength?: number;
  /** Longest values by field, over the column's own length. */
  maxLengths?: Readonly<Record<string, number>>;
}

/**
 * The longest value a text field takes: the endpoint's word for the field, else the column's
 * declared length, else the endpoint's default for text (`text` columns hold gigabytes otherwise).
 */
function maxLengthOf(name: string, column: ColumnMetadata, options: FieldOptions): number | undefined {
  const own = options.maxLengths?.[name];
  if (own !== undefined) return own;
  if (column.length) return Number(column.length);
  return valueKindOf(column) === "text" ? options.maxTextLength : undefined;
}

/** All field rules of one endpoint, indexed for the request path. */
export class FieldRules {
  readonly byName = new Map<string, FieldRule>();
  readonly readable: FieldRule[] = [];
  readonly all: FieldRule[] = [];
  readonly pk: FieldRule;
  readonly version?: FieldRule;
  /** Columns loaded for a record: every selectable column, hidden ones too, so hooks can see them. */
  readonly loadColumns: ColumnMetadata[];

  constructor(readonly metadata: EntityMetadata, options: FieldOptions) {
    if (metadata.primaryColumns.length !== 1) {
      throw new Error(`ajax-endpoints: ${metadata.name} must have exactly one primary column`);
    }
    const known = new Set([...metadata.columns.map((c) => c.propertyName), ...metadata.relations.map((r) => r.propertyName)]);
    for (const list of [options.fields, options.hiddenFields, options.readOnlyFields, options.serverSetFields, Object.keys(options.maxLengths ?? {})]) {
      for (const name of list ?? []) {
        if (!known.has(name)) throw new Error(`ajax-endpoints: ${metadata.name} has no field "${name}"`);
      }
    }
    const hidden = new Set(options.hiddenFields ?? []);
    const readOnly = new Set(options.readOnlyFields ?? []);
    const serverSetNames = new Set(options.serverSetFields ?? []);
    const notSecret = new Set(options.notSecretFields ?? []);
    const allow = options.fields ? new Set(options.fields) : undefined;
    const pkColumn = metadata.primaryColumns[0]!;

    const isHidden = (name: string, column: ColumnMetadata) =>
      hidden.has(name) || !column.isSelect || (SECRET_NAME.test(name) && !notSecret.has(name)) ||
      (allow !== undefined && !allow.has(name) && !column.isPrimary);

    for (const column of metadata.columns) {
      if (column.relationMetadata || column.isVirtual) continue;
      const name = column.propertyName;
      const serverSet = column.isPrimary || column.isCreateDate || column.isUpdateDate || column.isVersion ||
        column.isDeleteDate || column.isGenerated || serverSetNames.has(name) || !column.isInsert;
      const readable = !isHidden(name, column);
      const writable = readable && !serverSet && !readOnly.has(name) && column.isUpdate !== false;
      const hasDefault = column.default !== undefined || column.isGenerated;
      this.add({
        name, column, kind: valueKindOf(column), readable, writable, serverSet,
        required: writable && !column.isNullable && !hasDefault,
        nullable: column.isNullable,
        maxLength: maxLengthOf(name, column, options),
        enumValues: column.enum,
        range: integerRangeOf(column),
      });
    }
    for (const relation of metadata.relations) {
      if (!(relation.isManyToOne || relation.isOneToOneOwner) || relation.joinColumns.length !== 1) continue;
      const column = relation.joinColumns[0]!;
      const targetPk = relation.inverseEntityMetadata.primaryColumns[0]!;
      const name = relation.propertyName;
      const serverSet = serverSetNames.has(name);
      const readable = !isHidden(name, column);
      const writable = readable && !serverSet && !readOnly.has(name);
      this.add({
        name, column, relation, targetPk, kind: valueKindOf(targetPk), readable, writable, serverSet,
        required: writable && !relation.isNullable,
        nullable: relation.isNullable,
        range: integerRangeOf(targetPk),
      });
    }
    this.pk = this.byName.get(pkColumn.propertyName)!;
    const versionColumn = metadata.versionColumn;
    this.version = versionColumn ? this.byName.get(versionColumn.propertyName) : undefined;
    const seen = new Set<ColumnMetadata>();
    this.loadColumns = this.all.map((rule) => rule.column).filter((column) => {
      if (seen.has(column) || !column.isSelect) return false;
      seen.add(column);
      return true;
    });
  }

  private add(rule: FieldRule): void {
    this.byName.set(rule.name, rule);
    this.all.push(rule);
    if (rule.readable) this.readable.push(rule);
  }

  /** A readable field by name, or undefined: what filters, ordering and search may use. */
  readableField(name: string): FieldRule | undefined {
    const rule = this.byName.get(name);
    return rule?.readable ? rule : undefined;
  }
}
