import cluster from "node:cluster";
import type { ChangeBus, ChangeNote } from "./bus";
import { toNote } from "./bus";

/** How a note travels between the workers of a Node cluster (through the primary). */
interface ClusterMessage {
  ajaxLive: ChangeNote;
}

function isClusterMessage(message: unknown): message is ClusterMessage {
  return message !== null && typeof message === "object" && "ajaxLive" in message;
}

/**
 * The workers of one Node cluster on a database without notifications (SQLite, MariaDB) and
 * no Redis: a worker hears its own notes at once and sends them to the primary, which passes
 * them to every other worker ({@link relayLiveNotes}). Without the relay, each worker's feed
 * sees its own writes only.
 */
export class ClusterBus implements ChangeBus {
  readonly kind = "cluster";
  private listener?: (message: unknown) => void;
  private receive?: (note: ChangeNote) => void;

  async start(receive: (note: ChangeNote) => void): Promise<void> {
    this.receive = receive;
    this.listener = (message: unknown) => {
      const note = isClusterMessage(message) ? toNote(message.ajaxLive) : undefined;
      if (note) receive(note);
    };
    process.on("message", this.listener);
  }

  async publish(note: ChangeNote): Promise<void> {
    queueMicrotask(() => this.receive?.(note));
    if (process.connected) process.send?.({ ajaxLive: note } satisfies ClusterMessage);
  }

  async close(): Promise<void> {
    if (this.listener) process.off("message", this.listener);
    this.receive = undefined;
  }
}

/** Whether this process is a cluster worker (its notes can reach the others through the primary). */
export function inClusterWorker(): boolean {
  return cluster.isWorker && typeof process.send === "function";
}

/**
 * Call once in the cluster's primary: passes each worker's change notes to every other worker,
 * so that a feed on one worker hears of writes on another (SQLite or MariaDB without Redis).
 */
export function relayLiveNotes(): void {
  cluster.on("message", (from, message: unknown) => {
    if (!isClusterMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== from && worker.isConnected()) worker.send(message);
    }
  });
}
