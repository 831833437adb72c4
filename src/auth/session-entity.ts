import { Column, DeleteDateColumn, Entity, Index, PrimaryColumn } from "typeorm";
import type { ISession } from "connect-typeorm";

/**
 * Where sessions live when they live in the app's own database. Add it to your DataSource's
 * entities (with its table in your migrations: see `sessionTableMigration`).
 */
@Entity("ajax_session")
export class AjaxSession implements ISession {
  @PrimaryColumn({ type: "varchar", length: 255 })
  id!: string;

  @Index()
  @Column({ type: "bigint" })
  expiredAt: number = Date.now();

  @Column({ type: "text" })
  json!: string;

  @DeleteDateColumn({ nullable: true })
  destroyedAt?: Date;
}
