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
// Signing out (or another user signing in) drops them. What cannot be
// kept there is a form's photos (files in memory): a view keeps in its
// draft how many it had, and says after a reload which are gone. A form
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
