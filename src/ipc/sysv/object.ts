// One System V object (a queue, a segment or a semaphore set) named by its
// id: found by key, stat, set and removed the same way for every kind,
// driven by the kind's row in kinds.ts. MessageQueue, SharedMemory and
// SemaphoreSet extend it with what only their kind does.
import { IpcError } from '../../errors.js';
import { type KeySpec, createSayingWhether, forgetId, idOfKey, rememberedId } from './keys.js';
import { type PermChanges, SYSV_KINDS, type SysvKind } from './kinds.js';
import type { Kind } from './procfs.js';
import { relabelFor } from './relabel.js';

/** What names an object: its id, or a key (a number or ftok's path). */
export type ObjectTarget = { kind: 'id'; id: number } | KeySpec;

/** A subclass: constructed from an id, described by its row. */
interface Described<T> {
  new (id: number): T;
  readonly kind: SysvKind<unknown, PermChanges>;
}

/** IPC_RMID on `kind` `id`, after forgetting its key and letting go of what we hold of it. */
export function removeById(kind: Kind, id: number): void {
  const row: SysvKind<unknown, PermChanges> = SYSV_KINDS[kind];
  forgetId(kind, id);
  row.beforeRemove?.(id);
  row.remove(id);
}

function idOfKind(row: SysvKind<unknown, PermChanges>, spec: KeySpec): Promise<number> {
  return idOfKey(row.kind, spec, (key) => row.open(key), relabelFor(row.kind));
}

export abstract class SysvObject<S, C extends PermChanges> {
  constructor(readonly id: number) {}

  static fromId<T>(this: new (id: number) => T, id: number): T {
    return new this(id);
  }

  /** The object that exists with the key (its *get with no flags), remembered for a batch. */
  static async fromKey<T>(this: Described<T>, spec: KeySpec): Promise<T> {
    return new this(await idOfKind(this.kind, spec));
  }

  /** By id (not checked until used) or by key. */
  static async open<T>(this: Described<T>, target: ObjectTarget): Promise<T> {
    if (target.kind === 'id') return new this(target.id);
    return new this(rememberedId(this.kind.kind, target) ?? (await idOfKind(this.kind, target)));
  }

  /** create(), also saying whether this call made the object (see createSayingWhether). */
  static createNew<O extends { key: KeySpec; exclusive: boolean }>(
    this: { create(opts: O): Promise<number> },
    opts: O,
  ): Promise<{ id: number; created: boolean }> {
    return createSayingWhether(opts, (o) => this.create(o));
  }

  private get row(): SysvKind<S, C> {
    return (this.constructor as unknown as { kind: SysvKind<S, C> }).kind;
  }

  get name(): string {
    return String(this.id);
  }

  /** Re-describe a native error as `<op> <id>`, in this kind's words. Never returns. */
  protected fail(e: unknown, op: string): never {
    return relabelFor(this.row.kind)(e, op, this.name);
  }

  stat(op = `${this.row.kind} stat`): S {
    try {
      return this.row.stat(this.id);
    } catch (e) {
      return this.fail(e, op);
    }
  }

  /** Change what `changes` gives (mode, owner, ...); the rest stays. Returns the new stat. */
  set(changes: C): S {
    const row = this.row;
    const op = `${row.kind} set`;
    const cur = this.stat(op);
    try {
      row.set(this.id, changes, cur);
    } catch (e) {
      const refusal = e instanceof IpcError ? row.setRefusal?.(e.code, changes, cur) : undefined;
      if (refusal) throw new IpcError((e as IpcError).errno, op, this.name, refusal);
      this.fail(e, op);
    } finally {
      this.changed();
    }
    return this.stat(op);
  }

  /** After an IPC_SET, made or not: what a subclass derived from the old values is stale. */
  protected changed(): void {}

  remove(): void {
    try {
      removeById(this.row.kind, this.id);
    } catch (e) {
      this.fail(e, `${this.row.kind} rm`);
    }
  }
}
