import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";
import { columns, dialectOf } from "./1763700000000-Initial";


/**
 * The article's `deletedAt` (the softDelete feature: null while the article is not deleted) and
 * the audit table of the audit feature (`AuditEntry`), on SQLite, PostgreSQL and MariaDB alike.
 */
export class SoftDeleteAudit1764300000000 implements MigrationInterface {
  name = "SoftDeleteAudit1764300000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = dialectOf(queryRunner);
    const c = columns(dialect);
    // On SQLite, TypeORM adds a column by copying the table into a new one, which would drop the
    // full-text triggers on it; SQLite adds a nullable column in place.
    if (dialect === "sqlite") await queryRunner.query(`ALTER TABLE "article" ADD COLUMN "deletedAt" datetime NULL`);
    else await queryRunner.addColumn("article", new TableColumn(c.nullableDatetime("deletedAt")));
    // Every read of articles asks "deletedAt IS NULL": a count no other index narrows walks this one (it covers the count).
    await queryRunner.createIndex("article", new TableIndex({ name: "IDX_article_deleted", columnNames: ["deletedAt"] }));
    await queryRunner.createTable(new Table({
      name: "ajax_audit",
      columns: [c.id(), c.varchar("model", 100), c.varchar("objectId", 255), c.varchar("op", 20),
        { ...c.datetime("at"), default: undefined }, { ...c.varchar("userId", 255), isNullable: true }, c.text("changes")],
      indices: [new TableIndex({ name: "IDX_ajax_audit_record", columnNames: ["model", "objectId", "id"] })],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("ajax_audit");
    await queryRunner.dropIndex("article", "IDX_article_deleted");
    if (dialectOf(queryRunner) === "sqlite") await queryRunner.query(`ALTER TABLE "article" DROP COLUMN "deletedAt"`);
    else await queryRunner.dropColumn("article", "deletedAt");
  }
}
