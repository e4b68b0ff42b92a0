/**
 * @typedef {{value: any, hlc: string}} FieldState a field's value and the
 *   HLC of the write that set it ("" when the server sent none)
 * @typedef {{fields: Record<string, FieldState>, deleted: string}} MergeRecord
 * @typedef {{field: string, value: any, hlc: string, winnerHlc: string, incoming: boolean}} Loss
 * @typedef {{won: string[], same: string[], losses: Loss[], deleteApplied: boolean,
 *   deleteSame: boolean, status: 'applied'|'duplicate'|'stale'}} Outcome
 * @typedef {{seq?: number, entity: string, id: string, county?: string,
 *   fields?: Record<string, any>, hlcs?: Record<string, string>,
 *   hlc_groups?: Record<string, string[]>, deleted?: boolean, deleted_hlc?: string}} Change
 */
/**
 * The canonical JSON of a value (sync.md §5.1a): object keys sorted, no
 * white space, shortest numbers. Equal values have equal encodings.
 * @param {any} v
 * @returns {string}
 */
export function canonicalJSON(v: any): string;
/**
 * Merges one incoming field write into the stored state by the server's
 * rule (syncproto.Merge for one field): the greater HLC wins; equal HLCs
 * with different values fall back to the byte order of the canonical JSON
 * (the greater wins), so every delivery order converges.
 * @param {FieldState | undefined} cur the stored state, if any
 * @param {FieldState} inc the incoming write
 * @returns {{take: boolean, same: boolean, loss: Omit<Loss, 'field'> | null}}
 *   take: store the incoming write; loss: the value that did not survive
 */
export function mergeField(cur: FieldState | undefined, inc: FieldState): {
    take: boolean;
    same: boolean;
    loss: Omit<Loss, "field"> | null;
};
/**
 * Applies one mutation stamped hlc to rec (syncproto.Merge): commutative,
 * associative and idempotent. A delete advances the tombstone; a deleted
 * record stays deleted. Fields are visited in sorted order.
 * @param {MergeRecord} rec mutated in place
 * @param {Record<string, any> | null} fields
 * @param {boolean} del
 * @param {string} hlc
 * @returns {Outcome}
 */
export function mergeMutation(rec: MergeRecord, fields: Record<string, any> | null, del: boolean, hlc: string): Outcome;
/**
 * Expands a pulled change's hlc_groups (HLC → the fields it last wrote)
 * into per-field hlcs (sync.md §8.1). A field named in two groups takes the
 * greater HLC. Returns a new change without hlc_groups.
 * @param {Change} change
 * @returns {Change}
 */
export function expandChange(change: Change): Change;
/**
 * @typedef {{id: string, county?: string, fields?: Record<string, any>, hlc?: string,
 *   hlc_fields?: Record<string, string>, deleted?: boolean, deleted_hlc?: string}} CompactRecord
 * @typedef {{records: Record<string, CompactRecord[]>, nodes: string[], server_fields: string[],
 *   cursor: string, has_more: boolean, server_hlc: string}} CompactPage
 */
/**
 * Expands a compact pull page (form=compact, sync.md §8.4) into changes
 * with per-field hlcs, as a pull without it would carry them: entities in
 * sorted order, each entity's records in page order, seq 0. Throws on a
 * malformed page, as syncproto's CompactPage.Response does.
 * @param {CompactPage} page
 * @returns {Change[]}
 */
export function expandCompactPage(page: CompactPage): Change[];
/**
 * Merges a pulled change into local state by sync.md §8.2: a field is
 * taken when the local one is absent or its HLC is not greater (an equal
 * HLC takes the server's value: the phone's own write coming back in
 * canonical form); a tombstone advances to the greater HLC. Fields the
 * change does not name are kept.
 * @param {MergeRecord} local mutated in place
 * @param {Change} change expanded (hlcs per field)
 * @returns {{taken: string[], kept: string[], deleted: boolean}}
 *   taken: fields set from the change; kept: local values that are newer
 */
export function mergeChange(local: MergeRecord, change: Change): {
    taken: string[];
    kept: string[];
    deleted: boolean;
};
/**
 * a field's value and the
 *   HLC of the write that set it ("" when the server sent none)
 */
export type FieldState = {
    value: any;
    hlc: string;
};
export type MergeRecord = {
    fields: Record<string, FieldState>;
    deleted: string;
};
export type Loss = {
    field: string;
    value: any;
    hlc: string;
    winnerHlc: string;
    incoming: boolean;
};
export type Outcome = {
    won: string[];
    same: string[];
    losses: Loss[];
    deleteApplied: boolean;
    deleteSame: boolean;
    status: "applied" | "duplicate" | "stale";
};
export type Change = {
    seq?: number;
    entity: string;
    id: string;
    county?: string;
    fields?: Record<string, any>;
    hlcs?: Record<string, string>;
    hlc_groups?: Record<string, string[]>;
    deleted?: boolean;
    deleted_hlc?: string;
};
export type CompactRecord = {
    id: string;
    county?: string;
    fields?: Record<string, any>;
    hlc?: string;
    hlc_fields?: Record<string, string>;
    deleted?: boolean;
    deleted_hlc?: string;
};
export type CompactPage = {
    records: Record<string, CompactRecord[]>;
    nodes: string[];
    server_fields: string[];
    cursor: string;
    has_more: boolean;
    server_hlc: string;
};
