import { Column, CreateDateColumn, Entity, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Article } from "./Article";
import { User } from "./User";

@Entity("comment")
export class Comment {
  @PrimaryGeneratedColumn()
  id!: number;

  @ManyToOne(() => Article, { nullable: false, onDelete: "CASCADE" })
  article!: Article;

  @ManyToOne(() => User, { nullable: false, onDelete: "CASCADE" })
  author!: User;

  @Column({ type: "text" })
  body!: string;

  @CreateDateColumn()
  createdAt!: Date;
}
