// Config versions are content hashes: the same config always gets the same version, so a
// push that would not change anything is skipped, across pilot restarts too.
import { createHash } from 'node:crypto';

/** The hash of a config already serialised: the generator is deterministic (sorted lists,
 *  fixed key order, user specs in their file's order), so equal inputs give equal text, and
 *  the text hashed is the text sent: one serialisation per proxy per push, no key sorting
 *  (sorting every object's keys cost more than generating the config). */
export function jsonVersion(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}
