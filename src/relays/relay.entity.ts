import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Security } from '../settings/settings.entity.js';

/** A backup relay. The primary relay is the one in the settings row (priority 0). */
@Entity({ name: 'relay' })
export class RelayEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'ALWAYS' })
  id!: number;

  @Column({ type: 'text' })
  host!: string;

  /** null: the default port of the security mode (25 / 587 / 465). */
  @Column({ type: 'integer', nullable: true })
  port!: number | null;

  @Column({ type: 'text', default: 'starttls' })
  security!: Security;

  @Column({ name: 'tls_verify', type: 'boolean', default: true })
  tlsVerify!: boolean;

  @Column({ name: 'auth_enabled', type: 'boolean', default: false })
  authEnabled!: boolean;

  @Column({ type: 'text', default: '' })
  username!: string;

  /** AES-256-GCM sealed password (the settings' SecretBox), or null when none is set. */
  @Column({ name: 'password_sealed', type: 'text', nullable: true })
  passwordSealed!: string | null;

  /** Lower first; the primary relay is 0, backups 1 and up. */
  @Column({ type: 'integer' })
  priority!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
