/** A backup relay's place in the order they are tried: lower priority first, ties to the older (lower id). */
export interface Placed {
  id: string;
  priority: number;
}

const MAX_PRIORITY = 1000;

const before = (a: Placed, b: Placed) => a.priority - b.priority || Number(a.id) - Number(b.id);

/** Whether these priorities put the relays in exactly this order. */
function inOrder(order: readonly Placed[], priorities: ReadonlyMap<string, number>): boolean {
  const placed = order.map((r) => ({ id: r.id, priority: priorities.get(r.id) ?? r.priority }));
  return [...placed].sort(before).every((r, i) => r.id === placed[i]!.id);
}

/**
 * The priority changes that move the backup at `from` to `to` in `backups` (in the order they
 * are tried now), changing as few relays as it can: the two swap their priorities; where that is
 * not enough (equal priorities), each relay from the first out of place on gets one more than the
 * one before it; past 1000, the backups are numbered 1, 2, 3… Returns only the relays whose
 * priority changes.
 */
export function reorder(backups: readonly Placed[], from: number, to: number): Map<string, number> {
  const order = [...backups];
  const [moved] = order.splice(from, 1);
  if (!moved || to < 0 || to >= backups.length) return new Map();
  order.splice(to, 0, moved);

  const other = backups[to]!;
  const swapped = new Map([
    [moved.id, other.priority],
    [other.id, moved.priority],
  ]);
  if (Math.abs(from - to) === 1 && inOrder(order, swapped)) return changedOnly(backups, swapped);

  const climbing = new Map<string, number>();
  let last = 0;
  for (const r of order) {
    const priority = r.priority > last ? r.priority : last + 1;
    climbing.set(r.id, priority);
    last = priority;
  }
  if (last <= MAX_PRIORITY) return changedOnly(backups, climbing);
  return changedOnly(backups, new Map(order.map((r, i) => [r.id, i + 1])));
}

function changedOnly(backups: readonly Placed[], priorities: Map<string, number>): Map<string, number> {
  const now = new Map(backups.map((r) => [r.id, r.priority]));
  return new Map([...priorities].filter(([id, priority]) => now.get(id) !== priority));
}
