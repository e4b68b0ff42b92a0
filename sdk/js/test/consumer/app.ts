// A TypeScript app written against the SDK's published types (package.json
// "types" and "exports"), as a third-party mobile developer would import
// it: sdk_test.go's TestTypesServeAnApp compiles it with --strict. A wrong
// type here (the calls below misused) must fail that compile.
import { FieldsyncClient, FieldsyncError, MemoryStorage, uuidv7 } from '@fieldsync/sdk';
import type { Rec, Status, Storage, SyncResult, Tx, User } from '@fieldsync/sdk';
import { FileStorage } from '@fieldsync/sdk/file-storage';

// The types the API speaks of, by name: an app's own storage adapter
// (React Native SQLite, say) is a Storage, and its functions take Recs.
export function plate(r: Rec): string {
  return r.deleted ? '' : String(r.fields.plate ?? '');
}
export function pending(s: Status, res: SyncResult | null, u: User | null): string {
  return `${u?.username ?? ''} ${s.pendingChanges} ${res?.ok ?? false}`;
}
export const nothing: Storage = {
  async transaction<T>(_stores: unknown, _mode: unknown, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return fn({ get: async () => undefined, put: async () => {}, delete: async () => {}, all: async () => [] });
  },
  async close() {},
};

export async function inspect(baseURL: string, dir: string | null): Promise<string> {
  const storage = dir ? await FileStorage.open(dir) : new MemoryStorage();
  const client: FieldsyncClient = await FieldsyncClient.open({ baseURL, storage, deviceName: '第三方 App', keepOriginalsFor: 3 * 24 * 3600 * 1000 });
  if (!client.signedIn) await client.signIn('inspector', 'inspector123');
  const id: string = uuidv7();
  await client.save('inspection', id, { status: 'draft', started_at: new Date(client.now()).toISOString() });
  const res = await client.sync({ onProgress: (p) => console.log(p.phase, p.done, p.total) });
  if (!res.ok && res.error instanceof FieldsyncError) return `${res.error.code}: ${res.error.message}`;
  const shown = await client.photoImage(id);
  const purged: number = await client.purgeOriginals({ olderThan: 0 });
  return `${res.pushed} ${res.pulled} ${shown?.original ?? 'none'} ${purged} ${client.status().pendingPhotos}`;
}
