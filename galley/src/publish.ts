// Puts the snapshot on the bus: on every new version, after every reconnect (messages sent
// while a subscriber was away are lost), and on request for late joiners.

import { subjects, type Bus, type ConfigSnapshot, type Logger } from '#api';
import type { Subscription } from 'nats';

export class SnapshotPublisher {
  private sub?: Subscription;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly current: () => ConfigSnapshot,
    private readonly log: Logger,
    private readonly onPublished: () => void = () => {},
  ) {}

  start(): void {
    this.sub = this.bus.subscribe(subjects.configSnapshotGet, (m) => m.respond(this.current()));
    this.bus.onReconnect(() => {
      if (!this.closed) this.publish(this.current(), 'reconnect');
    });
    this.publish(this.current(), 'start');
  }

  publish(snapshot: ConfigSnapshot, why: string): void {
    if (this.closed) return;
    try {
      this.bus.publish(subjects.configSnapshot, snapshot);
      this.onPublished();
      this.log.info({ version: snapshot.version, resources: snapshot.resources.length, why }, 'snapshot published');
    } catch (err) {
      // Typically MAX_PAYLOAD_EXCEEDED (snapshot over the server's max_payload); a request for it
      // would fail the same way, so this needs a person.
      this.log.error({ err, version: snapshot.version, code: (err as { code?: string }).code }, 'snapshot publish failed');
    }
  }

  close(): void {
    this.closed = true;
    this.sub?.unsubscribe();
  }
}
