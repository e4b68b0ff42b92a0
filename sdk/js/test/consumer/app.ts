// A TypeScript app written against the SDK's published types (package.json
// "types" and "exports"), as a third-party mobile developer would import
// it: sdk_test.go's TestTypesServeAnApp compiles it with --strict. A wrong
// type here (the calls below misused) must fail that compile.
import { FieldsyncClient, FieldsyncError, MemoryStorage, uuidv7 } from '@fieldsync/sdk';
import type { MissingParent, Rec, RejectedEntry, Status, Storage, SyncResult, Tx, User } from '@fieldsync/sdk';
import { FileStorage } from '@fieldsync/sdk/file-storage';

// The types the API speaks of, by name: an app's own storage adapter
// (React Native SQLite, say) is a Storage, and its functions take Recs.
export function plate(r: Rec): string {
  return r.deleted ? '' : String(r.fields.plate ?? '');
}
// The parent a change refused for want of it names (unknown_reference).
export function missing(e: RejectedEntry): string {
  const p: MissingParent | undefined = e.parent;
  return p ? `${p.entity}/${p.id} ${p.state}` : '';
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
  // A SyncResult is narrowed by ok: a failed sync has its error, a good one none.
  if (!res.ok) return `${res.error.code}: ${res.error.message} ${res.error instanceof FieldsyncError}`;
  const none: null = res.error;
  // The client's internals are not in the published types: the outbox's
  // steps, the tokens, the constructor (open() makes a client).
  // @ts-expect-error internal
  await client.pushAll(res, () => {});
  // @ts-expect-error internal
  void client.auth.access;
  // @ts-expect-error private constructor
  void new FieldsyncClient({});
  // @ts-expect-error private constructor: FileStorage.open(dir) opens one
  void new FileStorage('/tmp/phone');
  // Each event's callback is given its own shape (SDK probe: any).
  const off = client.on('sync', (s) => console.log(s.pendingChanges, s.syncing));
  client.on('auth', (a) => console.log(a.signedIn === true));
  client.on('change', (c) => console.log(c.entity.length + c.id.length));
  // @ts-expect-error a change carries no status
  client.on('change', (c) => console.log(c.pendingChanges));
  // @ts-expect-error no such event
  client.on('changes', () => {});
  off();
  const shown = await client.photoImage(id);
  const purged: number = await client.purgeOriginals({ olderThan: 0 });
  // An upload job's documented members, uploadedAt among them.
  const sent = (await client.uploads()).map((j) => `${j.photoId} ${j.state} ${j.uploadedAt ?? '-'} ${j.creationTime ?? '-'}`);
  // The last sync's time, and the last successful one's.
  const last = client.status().lastSync;
  const since: number | null = last ? last.okAt : null;
  return `${none} ${res.pushed} ${res.pulled} ${shown?.original ?? 'none'} ${purged} ${client.status().pendingPhotos} ${sent.join()} ${since}`;
}
