import type { MigrationInterface, QueryRunner } from "typeorm";
import { createSearchIndex, dropSearchIndex } from "../src";

/** Full-text search over the articles' `searchFields` (endpoints/blog.ts). */
export class ArticleSearch1764200000000 implements MigrationInterface {
  name = "ArticleSearch1764200000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await createSearchIndex(queryRunner, { table: "article" }, ["title", "body"]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropSearchIndex(queryRunner, { table: "article" }, ["title", "body"]);
  }
}
