import type { DataSource } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { dialectOf } from "./dialect";

/** Turns one raw, non-null value of a column, as the driver gives it, into the value a record holds. */
export type ValueDecoder = (raw: unknown) => unknown;

/**
 * SQLite column types whose values TypeORM's `prepareHydratedValue` changes (AbstractSqliteDriver):
 * every other type is given as the driver read it.
 */
const SQLITE_CONVERTED_TYPES: ReadonlySet<unknown> = new Set<unknown>([
  Boolean, "boolean", "datetime", Date, "date", "time", "json", "jsonb", "simple-json", "simple-array", "simple-enum", Number,
]);

const digit = (text: string, index: number) => text.charCodeAt(index) - 48;

/** `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD HH:MM:SS.SSS`, all digits where digits go. */
function isSqliteDatetime(text: string): boolean {
  const length = text.length;
  if (length !== 19 && length !== 23) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const separator = i === 4 || i === 7 ? 45 : i === 10 ? 32 : i === 13 || i === 16 ? 58 : i === 19 ? 46 : 0;
    if (separator !== 0 ? code !== separator : code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * A SQLite datetime as TypeORM reads it (text in UTC, `new Date("...Z")`), from its digits: about
 * a fifth of the cost of TypeORM's two regular expressions and date-string parse, and every
 * listed record has two or three of them. Any other text goes TypeORM's way.
 */
function sqliteDatetime(generic: ValueDecoder): ValueDecoder {
  return (raw) => {
    if (typeof raw !== "string" || !isSqliteDatetime(raw)) return generic(raw);
    const year = digit(raw, 0) * 1000 + digit(raw, 1) * 100 + digit(raw, 2) * 10 + digit(raw, 3);
    const month = digit(raw, 5) * 10 + digit(raw, 6);
    const day = digit(raw, 8) * 10 + digit(raw, 9);
    const hours = digit(raw, 11) * 10 + digit(raw, 12);
    const minutes = digit(raw, 14) * 10 + digit(raw, 15);
    const seconds = digit(raw, 17) * 10 + digit(raw, 18);
    // Out-of-range fields make `new Date(text)` invalid where Date.UTC would roll them over.
    if (month < 1 || month > 12 || day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 59) return generic(raw);
    const date = new Date(Date.UTC(
      year, month - 1, day, hours, minutes, seconds,
      raw.length === 23 ? digit(raw, 20) * 100 + digit(raw, 21) * 10 + digit(raw, 22) : 0,
    ));
    // Date.UTC maps years 0-99 to 1900-1999, and rolls 31 April over to 1 May; the text does neither.
    return date.getUTCDate() === day && date.getUTCFullYear() === year ? date : generic(raw);
  };
}

const asIs: ValueDecoder = (raw) => raw;
const asBoolean: ValueDecoder = (raw) => (raw ? true : false);

/**
 * How the values of `column` are decoded, worked out once per column: the same values as the
 * driver's `prepareHydratedValue`, without asking it for each value which of its cases the
 * column is. On SQLite the common cases (text, integers, booleans, datetimes) are done here and
 * the rest by the driver; on PostgreSQL and MariaDB, whose drivers already give dates and
 * numbers, by the driver. A column with a transformer always goes the driver's way.
 */
export function valueDecoder(dataSource: DataSource, column: ColumnMetadata): ValueDecoder {
  const driver = dataSource.driver;
  const generic: ValueDecoder = (raw) => driver.prepareHydratedValue(raw, column);
  if (column.transformer || dialectOf(dataSource) !== "sqlite") return generic;
  const type = column.type;
  if (type === Boolean || type === "boolean") return asBoolean;
  if (type === "datetime" || type === Date) return sqliteDatetime(generic);
  return SQLITE_CONVERTED_TYPES.has(type) ? generic : asIs;
}
