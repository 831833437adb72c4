import {
  Column, CreateDateColumn, DeleteDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn,
} from "typeorm";
import { Category } from "./Category";
import { User } from "./User";

@Entity("article")
export class Article {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 200 })
  title!: string;

  @Column({ type: "text", default: "" })
  body!: string;

  @Index()
  @Column({ type: "boolean", default: false })
  published!: boolean;

  /** When the article went (or goes) public; the author sets it. */
  @Column({ type: Date, nullable: true })
  publishedAt!: Date | null;

  @ManyToOne(() => Category, { nullable: true, onDelete: "SET NULL" })
  category!: Category | null;

  @Index()
  @ManyToOne(() => User, { nullable: false, onDelete: "CASCADE" })
  author!: User;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;

  @VersionColumn()
  version!: number;

  /** Set when the article is deleted (the softDelete feature); null while it is not. */
  @DeleteDateColumn({ nullable: true })
  deletedAt!: Date | null;
}
