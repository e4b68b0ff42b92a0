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
  // A decision the page asks about first (审核通过 with photos flagged).
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
