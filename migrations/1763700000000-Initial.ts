import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";
import { TableColumnOptions } from "typeorm/schema-builder/options/TableColumnOptions";

type Dialect = "sqlite" | "postgres" | "mysql";

export function dialectOf(queryRunner: QueryRunner): Dialect {
  const type = queryRunner.connection.options.type;
  if (type === "postgres") return "postgres";
  if (type === "mysql" || type === "mariadb") return "mysql";
  return "sqlite";
}

/**
 * Column shapes that differ by database, chosen so that every value reads back the same
 * through the API: datetimes keep milliseconds (no more) and are stored as UTC (timestamptz on
 * PostgreSQL), booleans are real booleans or tinyint(1).
 */
export function columns(dialect: Dialect) {
  const now = dialect === "sqlite" ? "(strftime('%Y-%m-%d %H:%M:%f', 'now'))" : dialect === "postgres" ? "now()" : "CURRENT_TIMESTAMP(3)";
  // Milliseconds, as JavaScript dates and the API have them: a stored microsecond would make
  // `createdAt__lte` with the very value a client read miss the row it came from.
  const precision = dialect === "sqlite" ? undefined : 3;
  const datetimeType = dialect === "sqlite" ? "datetime" : dialect === "postgres" ? "timestamptz" : "datetime";
  // MariaDB's default collations ignore case (and accents): "News" would collide with "news"
  // in a unique column and match it in a filter. The binary collation compares text exactly,
  // as PostgreSQL and SQLite do; utf8mb4 holds every character, emoji included.
  const textCollation: Partial<TableColumnOptions> = dialect === "mysql" ? { charset: "utf8mb4", collation: "utf8mb4_bin" } : {};
  return {
    id: (): TableColumnOptions => ({ name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" }),
    integer: (name: string, nullable = false): TableColumnOptions => ({ name, type: "integer", isNullable: nullable }),
    bigint: (name: string): TableColumnOptions => ({ name, type: "bigint" }),
    varchar: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions =>
      ({ name, type: "varchar", length: String(length), ...textCollation, ...extra }),
    // MariaDB's text holds 64 KiB; longtext holds what PostgreSQL's and SQLite's text hold.
    text: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions =>
      ({ name, type: dialect === "mysql" ? "longtext" : "text", ...textCollation, ...extra }),
    // MariaDB reads "boolean" as tinyint(1).
    boolean: (name: string, value: boolean): TableColumnOptions =>
      ({ name, type: "boolean", default: dialect === "postgres" ? String(value) : value ? 1 : 0 }),
    datetime: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions =>
      ({ name, type: datetimeType, precision, default: now, ...extra }),
    updatedAt: (name: string): TableColumnOptions => ({
      name, type: datetimeType, precision, default: now, onUpdate: dialect === "mysql" ? now : undefined,
    }),
    nullableDatetime: (name: string): TableColumnOptions => ({ name, type: datetimeType, precision, isNullable: true }),
  };
}

/** The example app's schema, the session table and the tag store, on SQLite, PostgreSQL and MariaDB alike. */
export class Initial1763700000000 implements MigrationInterface {
  name = "Initial1763700000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(dialectOf(queryRunner));
    await queryRunner.createTable(new Table({
      name: "user",
      columns: [c.id(), c.varchar("username", 150, { isUnique: true }), c.varchar("passwordHash", 255), c.varchar("email", 254, { default: "''" }),
        c.boolean("isStaff", false), c.boolean("isActive", true), c.datetime("createdAt")],
    }));
    await queryRunner.createTable(new Table({
      name: "category",
      columns: [c.id(), c.varchar("title", 100, { isUnique: true }), c.text("description", { isNullable: true })],
    }));
    await queryRunner.createTable(new Table({
      name: "article",
      columns: [c.id(), c.varchar("title", 200), c.text("body", { default: "''" }), c.boolean("published", false),
        c.nullableDatetime("publishedAt"), c.integer("categoryId", true), c.integer("authorId"), c.datetime("createdAt"), c.updatedAt("updatedAt"), c.integer("version")],
      indices: [new TableIndex({ columnNames: ["published"] }), new TableIndex({ columnNames: ["authorId"] }),
        new TableIndex({ columnNames: ["categoryId"] }), new TableIndex({ columnNames: ["createdAt"] })],
      foreignKeys: [
        new TableForeignKey({ columnNames: ["categoryId"], referencedTableName: "category", referencedColumnNames: ["id"], onDelete: "SET NULL" }),
        new TableForeignKey({ columnNames: ["authorId"], referencedTableName: "user", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
      ],
    }));
    await queryRunner.createTable(new Table({
      name: "comment",
      columns: [c.id(), c.integer("articleId"), c.integer("authorId"), c.text("body"), c.datetime("createdAt")],
      indices: [new TableIndex({ columnNames: ["articleId"] })],
      foreignKeys: [
        new TableForeignKey({ columnNames: ["articleId"], referencedTableName: "article", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
        new TableForeignKey({ columnNames: ["authorId"], referencedTableName: "user", referencedColumnNames: ["id"], onDelete: "CASCADE" }),
      ],
    }));
    await queryRunner.createTable(new Table({
      name: "ajax_session",
      columns: [c.varchar("id", 255, { isPrimary: true }), c.bigint("expiredAt"), c.text("json"), c.nullableDatetime("destroyedAt")],
      indices: [new TableIndex({ columnNames: ["expiredAt"] })],
    }));
    await queryRunner.createTable(new Table({
      name: "ajax_tag",
      columns: [c.id(), c.varchar("name", 100, { isUnique: true }), c.varchar("slug", 100, { isUnique: true })],
    }));
    await queryRunner.createTable(new Table({
      name: "ajax_tagged_item",
      columns: [c.id(), c.integer("tagId"), c.varchar("model", 100), c.integer("objectId")],
      uniques: [{ name: "UQ_ajax_tagged_item_object_tag", columnNames: ["model", "objectId", "tagId"] }],
      indices: [new TableIndex({ name: "IDX_ajax_tagged_item_tag", columnNames: ["tagId", "model", "objectId"] })],
      foreignKeys: [new TableForeignKey({ columnNames: ["tagId"], referencedTableName: "ajax_tag", referencedColumnNames: ["id"], onDelete: "CASCADE" })],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["ajax_tagged_item", "ajax_tag", "ajax_session", "comment", "article", "category", "user"]) {
      await queryRunner.dropTable(table);
    }
  }
}
