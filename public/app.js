// Marks the page as scripted: controls that need this file (class js-only) are shown.
document.documentElement.classList.add('js');

// Live refresh without inline script or eval (the CSP allows neither): every element with
// data-poll="SECONDS" gets an htmx "poll" event at that interval, only while the tab is visible,
// and once at once when the tab comes back. An element's first interval starts when it is first
// seen, so one that its own refresh replaces (hx-swap="outerHTML") waits a whole interval too.
(function () {
  function visible() { return document.visibilityState === 'visible'; }
  function fire(el) { if (window.htmx && document.body.contains(el)) window.htmx.trigger(el, 'poll'); }
  var last = new WeakMap();
  setInterval(function () {
    if (!visible()) return;
    var now = Date.now();
    document.querySelectorAll('[data-poll]').forEach(function (el) {
      var every = (Number(el.getAttribute('data-poll')) || 5) * 1000;
      if (!last.has(el)) last.set(el, now);
      else if (now - last.get(el) >= every) { last.set(el, now); fire(el); }
    });
  }, 1000);
  document.addEventListener('visibilitychange', function () {
    if (visible()) document.querySelectorAll('[data-poll]').forEach(function (el) { last.set(el, Date.now()); fire(el); });
  });
})();

// Provider presets on Edit Settings: choosing one fills relay host, port and security in place
// and shows the provider's note. Without JavaScript the server applies the choice on save.
// Delegated, so it keeps working after htmx swaps the form.
document.addEventListener('change', function (e) {
  var select = e.target;
  if (!select || !select.matches || !select.matches('select[data-preset-select]')) return;
  var option = select.options[select.selectedIndex];
  var form = select.form;
  var note = document.getElementById('f-preset-note');
  if (!option || !option.value || !form) { if (note) note.textContent = ''; return; }
  var set = function (name, value) { var el = form.elements.namedItem(name); if (el && value !== null) el.value = value; };
  set('relayHost', option.getAttribute('data-host'));
  set('relayPort', option.getAttribute('data-port'));
  set('security', option.getAttribute('data-security'));
  if (note) note.textContent = option.getAttribute('data-note') || '';
});

// Select all on the Mail Queue: the header box (data-select-all="FORM-ID") checks or clears the
// row boxes of that form; it shows checked when every row is, "mixed" when some are. Delegated,
// and synced again after each htmx swap, as the live refresh brings new rows.
(function () {
  function rows(formId) { return document.querySelectorAll('input[type=checkbox][name=ids][form="' + formId + '"]'); }
  function sync(all) {
    var boxes = Array.prototype.slice.call(rows(all.getAttribute('data-select-all')));
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = boxes.length > 0 && checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
  }
  function syncAll() { document.querySelectorAll('input[data-select-all]').forEach(sync); }
  document.addEventListener('change', function (e) {
    var box = e.target;
    if (!box || !box.matches) return;
    if (box.matches('input[data-select-all]')) {
      rows(box.getAttribute('data-select-all')).forEach(function (b) { b.checked = box.checked; });
      box.indeterminate = false;
    } else if (box.matches('input[type=checkbox][name=ids]')) {
      syncAll();
    }
  });
  document.addEventListener('htmx:after:swap', syncAll);
})();

// The result of a form sent with htmx (Edit Settings: "Settings saved" or "Nothing was saved")
// sits at the top of a tall form whose button is at the bottom: after the swap, bring it into
// view and give it the focus, so that it is seen and read out. Without JavaScript the page
// loads at its top and the result's autofocus does the same.
document.addEventListener('htmx:after:swap', function () {
  var result = document.querySelector('[data-focus-result]');
  if (!result || result.hasAttribute('data-focused')) return;
  result.setAttribute('data-focused', '');
  result.focus({ preventScroll: true });
  result.scrollIntoView({ block: 'start' });
});

// Fields that only some choices of a select use (a channel's type, a rule's "if undelivered"):
// an element with data-shown-by="NAME" data-shown-for="a b" is shown only while the select NAME
// of its form has one of those values, and its fields are disabled (not sent) while hidden.
// Without JavaScript every field shows, its hint saying which choices use it. Delegated, and
// applied again after each htmx swap.
(function () {
  function apply(form) {
    form.querySelectorAll('[data-shown-by]').forEach(function (el) {
      var select = form.elements.namedItem(el.getAttribute('data-shown-by'));
      if (!select || select.tagName !== 'SELECT') return;
      var shown = (el.getAttribute('data-shown-for') || '').split(' ').indexOf(select.value) >= 0;
      el.hidden = !shown;
      el.querySelectorAll('input, select, textarea').forEach(function (field) { field.disabled = !shown; });
    });
  }
  function applyAll() {
    document.querySelectorAll('form').forEach(function (form) { if (form.querySelector('[data-shown-by]')) apply(form); });
  }
  document.addEventListener('change', function (e) {
    var select = e.target;
    if (select && select.tagName === 'SELECT' && select.form) apply(select.form);
  });
  document.addEventListener('htmx:after:swap', applyAll);
  applyAll();
})();
