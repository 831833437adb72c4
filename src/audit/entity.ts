import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

/**
 * One change of one record, written by the {@link audit} feature in the change's own
 * transaction. One table for every audited model of the app: `model` is the entity's table,
 * `objectId` the record's pk as text (integer, uuid or string pks alike).
 */
@Entity("ajax_audit")
@Index("IDX_ajax_audit_record", ["model", "objectId", "id"])
export class AuditEntry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 100 })
  model!: string;

  @Column({ type: "varchar", length: 255 })
  objectId!: string;

  /** create, update, delete, restore or tags. */
  @Column({ type: "varchar", length: 20 })
  op!: string;

  @Column({ precision: 3 })
  at!: Date;

  /** The pk of the user who made the change, as text; null for an anonymous one. */
  @Column({ type: "varchar", length: 255, nullable: true })
  userId!: string | null;

  /** JSON: `{"<field>": [old, new]}`, readable fields only. */
  @Column({ type: "text" })
  changes!: string;
}
