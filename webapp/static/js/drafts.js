// Drafts: what the inspector has entered in a form and not saved yet, kept
// outside the page. A view is drawn anew from the store whenever its data
// change — every sync ends so, the minute's, the one when the network
// returns and the one when the phone comes back from the camera app — and
// such a draw must not wipe a half-filled form. A form view keeps its
// input in its draft and draws its fields from it; saving (or emptying the
// form) clears the draft.
//
// Drafts are also kept in the phone's localStorage, under the signed-in
// user's name, so that a reload keeps them too — the phone may kill the
// page while the camera app is open, or the inspector pulls to refresh.
// Signing out (or another user signing in) drops them. A form's photos
// not stored yet (a roadside check's, stored with the check when it is
// saved) are files, which localStorage cannot hold: they are kept in the
// phone's IndexedDB instead (keepShot), under the same user, and a view
// keeps in its draft which ones it had, so that after a reload it finds
// them again, or says which are gone where IndexedDB failed. A form
// draft's `saving` flag is not kept: after a reload nothing is saving.

import { store } from './ui.js';

const KEY = 'fieldsync.drafts'; // {user, drafts: {key: draft}}

const drafts = new Map();
let owner = null; // the user the drafts are kept for

/** openDrafts makes the drafts user's: those the phone kept for them
 *  come back, another user's are dropped. */
export function openDrafts(user) {
  if (owner === user) return;
  drafts.clear();
  owner = user || null;
  let kept = null;
  try { kept = JSON.parse(store.get(KEY) || 'null'); } catch { kept = null; }
  if (kept && kept.user === owner && kept.drafts && typeof kept.drafts === 'object') {
    for (const [k, d] of Object.entries(kept.drafts)) if (d && typeof d === 'object') drafts.set(k, d);
  } else {
    store.del(KEY);
    // Another user's photos go with their drafts.
    if (kept) dropShots();
  }
}

/** keepDrafts writes the drafts to the phone (the views call it through
 *  keepInput; whoever changes a draft otherwise calls it). */
export function keepDrafts() {
  const live = [...drafts].filter(([, d]) => Object.keys(d).some((k) => k !== 'saving'));
  if (!owner || !live.length) { store.del(KEY); return; }
  store.set(KEY, JSON.stringify({ user: owner, drafts: Object.fromEntries(live.map(([k, d]) =>
    [k, Object.fromEntries(Object.entries(d).filter(([f]) => f !== 'saving'))])) }));
}

/** draft returns the unsaved input of the form named key: the same object
 *  from one draw to the next, until clearDraft. */
export function draft(key) {
  let d = drafts.get(key);
  if (!d) drafts.set(key, (d = {}));
  return d;
}

/** clearDraft forgets the input of form key (it was saved or emptied). */
export function clearDraft(key) {
  if (!drafts.delete(key)) return;
  keepDrafts();
}

/** clearDrafts forgets every form's input (on signing out: the next user
 *  must not find it), on the phone too. */
export function clearDrafts() {
  drafts.clear();
  owner = null;
  store.del(KEY);
  dropShots();
}

// ---- shots: a form's photo files kept until the form is saved ----

const SHOTS_DB = 'fieldsync.shots'; // not fieldsync-…: those are the SDK's storages (app.js)
const SHOTS = 'shots'; // {id, user, form, file, cap?}, by id

let shotsDB = null;

/** shotStore runs fn on the shots' object store in a transaction of mode
 *  and resolves with the result of the request fn returns, once the
 *  transaction is committed. */
function shotStore(mode, fn) {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('no IndexedDB'));
  if (!shotsDB) {
    shotsDB = new Promise((resolve, reject) => {
      const r = indexedDB.open(SHOTS_DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(SHOTS, { keyPath: 'id' });
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    shotsDB.catch(() => { shotsDB = null; });
  }
  return shotsDB.then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(SHOTS, mode);
    const req = fn(tx.objectStore(SHOTS));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('aborted'));
  }));
}

/** keepShot keeps on the phone photo file of form (its capture facts cap
 *  too, once read) under id, for the signed-in user, until dropShot: a
 *  reload of the page finds it with keptShots. It resolves false (and
 *  logs why) when the phone could not keep it: the photo then lives as
 *  long as the page. */
export function keepShot(form, { id, file, cap }) {
  if (!owner) return Promise.resolve(false);
  const rec = { id, user: owner, form, file, cap: cap || null };
  return shotStore('readwrite', (st) => st.put(rec)).then(() => true, (e) => {
    console.warn('keep photo', e);
    return false;
  });
}

/** keptShots are the photos of form the phone keeps for the signed-in
 *  user ([{id, file, cap}]; none where IndexedDB fails). */
export async function keptShots(form) {
  if (!owner) return [];
  const user = owner;
  try {
    const all = await shotStore('readonly', (st) => st.getAll());
    return (all || []).filter((r) => r.user === user && r.form === form).map((r) => ({ id: r.id, file: r.file, cap: r.cap }));
  } catch (e) {
    console.warn('kept photos', e);
    return [];
  }
}

/** dropShot forgets the kept photo id (stored as a photo, or given up). */
export function dropShot(id) {
  return shotStore('readwrite', (st) => st.delete(id)).catch((e) => console.warn('drop photo', e));
}

/** dropShots forgets every kept photo (on signing out). */
function dropShots() {
  return shotStore('readwrite', (st) => st.clear()).catch((e) => console.warn('drop photos', e));
}

/** keepInput fills form's named fields from draft d and records in d what
 *  is typed or chosen in them from now on. Values of other kinds (choice
 *  buttons) the view keeps in d itself, in its buttons' click handlers:
 *  the draft is written to the phone after every input and tap in form. */
export function keepInput(form, d) {
  for (const el of form.elements) {
    if (el.name && el.type !== 'file' && Object.prototype.hasOwnProperty.call(d, el.name)) el.value = d[el.name];
  }
  const note = (e) => {
    const el = e.target;
    if (el.name && el.type !== 'file') d[el.name] = el.value;
    keepDrafts();
  };
  form.addEventListener('input', note);
  form.addEventListener('change', note);
  // After the buttons' own handlers (they bubble here last).
  form.addEventListener('click', () => keepDrafts());
}

// The page may be killed while hidden (the camera app in front): whatever
// a view put in a draft by other ways is on the phone by then.
if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') keepDrafts(); });
  window.addEventListener('pagehide', () => keepDrafts());
}
