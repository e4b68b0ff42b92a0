// Forms of the console: a form posted (a review, a verification, a bulk
// approval, a ledger report) is sent once, after the question its
// data-confirm asks, if any. A second click while the first
// is on its way would send the decision again; the server answers a
// repeat as the first, but the office should not have to wonder. The
// forms work without this file; it only disables their buttons.
document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || form.method !== 'post' || ev.defaultPrevented) return;
  if (form.dataset.sent) {
    ev.preventDefault();
    return;
  }
  // A decision the page asks about first (审核通过 with photos flagged,
  // items missing or photos not yet checked).
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    ev.preventDefault();
    return;
  }
  form.dataset.sent = '1';
  // After this event, so that the submission still carries the button.
  setTimeout(() => {
    for (const b of form.querySelectorAll('button, input[type="submit"]')) b.disabled = true;
  }, 0);
});
// A page shown again from the browser's history (Back) is usable again.
window.addEventListener('pageshow', (ev) => {
  if (!ev.persisted) return;
  for (const form of document.querySelectorAll('form[data-sent]')) {
    delete form.dataset.sent;
    for (const b of form.querySelectorAll('button, input[type="submit"]')) b.disabled = false;
  }
});
// A form refused for one of its fields comes back with its message in an
// alert naming the field (data-field): the field is marked invalid,
// described by the message — a screen reader reads it with the field —
// and focused, so that the office corrects it where it is, not after
// hunting the form for it. (The script runs deferred: the page is parsed.)
for (const alert of document.querySelectorAll('.alert[data-field][id]')) {
  // Every control of the name: a group of checkboxes (区县) is one field.
  // In the alert's own form when it stands in one (a page of several
  // forms with a comment each), else in the page's.
  const fields = alert.closest('form')?.querySelectorAll(`[name="${CSS.escape(alert.dataset.field)}"]`) ??
    document.querySelectorAll(`form [name="${CSS.escape(alert.dataset.field)}"]`);
  if (!fields.length) continue;
  for (const field of fields) {
    field.setAttribute('aria-invalid', 'true');
    const described = (field.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!described.includes(alert.id)) field.setAttribute('aria-describedby', [...described, alert.id].join(' '));
  }
  fields[0].focus();
  break;
}
// A page that says what was just done (data-said: a saved report, a
// verification, in the row the page opens at) puts the focus on it, so
// that a screen reader reads it out (a status already on the page as it
// loads is not announced) and the keyboard goes on from there; scrolled
// into view if the row is taller than the screen. The autofocus attribute
// does not do it on an address with a fragment.
{
  const said = document.querySelector('[data-said]');
  if (said) said.focus();
}
// A page that answers a form's POST with its results (the bulk
// approval's) names the page a reload should show instead: the address
// becomes that page's, and a reload asks for it rather than sending the
// form again (reviewer probe: a reload approved the list once more, and
// said so).
const reloadAs = document.querySelector('[data-reload-as]');
if (reloadAs) history.replaceState(null, '', reloadAs.dataset.reloadAs);
