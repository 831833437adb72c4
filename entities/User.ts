import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

/** A person who logs in. `passwordHash` and `email` never leave the server. */
@Entity("user")
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 150, unique: true })
  username!: string;

  @Column({ type: "varchar", length: 255 })
  passwordHash!: string;

  @Column({ type: "varchar", length: 254, default: "" })
  email!: string;

  @Column({ type: "boolean", default: false })
  isStaff!: boolean;

  @Column({ type: "boolean", default: true })
  isActive!: boolean;

  @CreateDateColumn()
  createdAt!: Date;
}
