// Drafts: what the inspector has entered in a form and not saved yet, kept
// outside the page. A view is drawn anew from the store whenever its data
// change — every sync ends so, the minute's, the one when the network
// returns and the one when the phone comes back from the camera app — and
// such a draw must not wipe a half-filled form. A form view keeps its
// input in its draft and draws its fields from it; saving (or emptying the
// form) clears the draft. In memory: the photos of a form cannot be kept
// elsewhere, and a form restored without them would look complete.

const drafts = new Map();

/** draft returns the unsaved input of the form named key: the same object
 *  from one draw to the next, until clearDraft. */
export function draft(key) {
  let d = drafts.get(key);
  if (!d) drafts.set(key, (d = {}));
  return d;
}

/** clearDraft forgets the input of form key (it was saved or emptied). */
export function clearDraft(key) {
  drafts.delete(key);
}

/** clearDrafts forgets every form's input (on signing out: the next user
 *  must not find it). */
export function clearDrafts() {
  drafts.clear();
}

/** keepInput fills form's named fields from draft d and records in d what
 *  is typed or chosen in them from now on. Values of other kinds (choice
 *  buttons) the view keeps in d itself. */
export function keepInput(form, d) {
  for (const el of form.elements) {
    if (el.name && el.type !== 'file' && Object.prototype.hasOwnProperty.call(d, el.name)) el.value = d[el.name];
  }
  const note = (e) => {
    const el = e.target;
    if (el.name && el.type !== 'file') d[el.name] = el.value;
  };
  form.addEventListener('input', note);
  form.addEventListener('change', note);
}
