import { Column, Entity, Index, ManyToOne, PrimaryGeneratedColumn, Unique } from "typeorm";

/** A tag: global, with a unique name and a unique slug (django-taggit's `Tag`). */
@Entity("ajax_tag")
export class Tag {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 100, unique: true })
  name!: string;

  @Column({ type: "varchar", length: 100, unique: true })
  slug!: string;
}

/**
 * A link between a tag and a record of any taggable entity (taggit's generic `TaggedItem`):
 * `model` is the entity's table name, `objectId` its integer pk. The unique index makes a
 * concurrent double `add` harmless; the `tagId` index serves `similar` and tag filters.
 */
@Entity("ajax_tagged_item")
@Unique("UQ_ajax_tagged_item_object_tag", ["model", "objectId", "tagId"])
@Index("IDX_ajax_tagged_item_tag", ["tagId", "model", "objectId"])
export class TaggedItem {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  tagId!: number;

  @ManyToOne(() => Tag, { onDelete: "CASCADE" })
  tag!: Tag;

  @Column({ type: "varchar", length: 100 })
  model!: string;

  @Column({ type: "integer" })
  objectId!: number;
}
