// The segments a batch keeps attached between its commands (shmat and shmdt
// map and unmap pages: they cost more than a small read). Kept apart from
// SharedMemory because removal, for every kind, must let go of them first.

/**
 * A segment attached to this process, as the domain and the commands see it
 * (native.Attachment is one, its address kept inside): windows of its bytes,
 * a prefault hint before a bulk copy, and shmdt.
 */
export interface Attachment {
  readonly id: number;
  readonly size: number;
  readonly isAttached: boolean;
  /** `length` bytes at `offset`, aliasing the segment; valid until detach(). */
  view(offset: number, length: number): Buffer;
  prefault(offset: number, length: number, forWrite: boolean): void;
  detach(): void;
}

let kept: Map<string, Attachment> | null = null;

/** For batch: keep segments attached between commands (see SharedMemory.withAttached). */
export function keepSegmentsAttached(): void {
  kept ??= new Map();
}

/** The attachments a batch keeps, by `${id}:r` or `${id}:w`; null outside a batch. */
export function keptAttachments(): Map<string, Attachment> | null {
  return kept;
}

/** Detach what a batch keeps of segment `id` (it is being removed, or changed). */
export function detachKept(id: number): void {
  if (!kept) return;
  for (const mode of ['r', 'w']) {
    const a = kept.get(`${id}:${mode}`);
    if (!a) continue;
    kept.delete(`${id}:${mode}`);
    try {
      a.detach();
    } catch {
      /* already unmapped */
    }
  }
}
