import type { DataSource } from "typeorm";

/**
 * Fails at start-up, in one line that names the export to add, when the DataSource lacks an
 * entity the framework needs: otherwise the first request that needs it would fail instead.
 */
export function requireEntity(dataSource: DataSource, entity: Function, exportName: string, why: string): void {
  if (!dataSource.hasMetadata(entity)) {
    throw new Error(`ajax-endpoints: ${why}, so the DataSource needs the ${exportName} entity: add ${exportName} (exported by ajax-endpoints) to its entities, and its table to your migrations`);
  }
}
