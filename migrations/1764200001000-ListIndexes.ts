import { TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Indexes that serve every list the example app answers, at any size: each filter the article
 * endpoint allows, in the default order (newest first), walks an index and stops at the page;
 * users and comments that cascade away with a user or an article are found by index.
 * test/plans.test.ts checks the query plans on every database.
 */
const INDEXES: Array<[string, string, string[]]> = [
  ["article", "IDX_article_category_created", ["categoryId", "createdAt"]],
  ["article", "IDX_article_published_created", ["published", "createdAt"]],
  ["article", "IDX_article_author_created", ["authorId", "createdAt"]],
  ["article", "IDX_article_title", ["title"]],
  ["comment", "IDX_comment_article_created", ["articleId", "createdAt"]],
  ["comment", "IDX_comment_created", ["createdAt"]],
  ["comment", "IDX_comment_author", ["authorId"]],
];

export class ListIndexes1764200001000 implements MigrationInterface {
  name = "ListIndexes1764200001000";

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, name, columnNames] of INDEXES) await queryRunner.createIndex(table, new TableIndex({ name, columnNames }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, name] of [...INDEXES].reverse()) await queryRunner.dropIndex(table, name);
  }
}
