// Live refresh without inline script or eval (the CSP allows neither): every element with
// data-poll="SECONDS" gets an htmx "poll" event at that interval, only while the tab is visible,
// and once at once when the tab comes back.
(function () {
  function visible() { return document.visibilityState === 'visible'; }
  function fire(el) { if (window.htmx && document.body.contains(el)) window.htmx.trigger(el, 'poll'); }
  var last = new WeakMap();
  setInterval(function () {
    if (!visible()) return;
    var now = Date.now();
    document.querySelectorAll('[data-poll]').forEach(function (el) {
      var every = (Number(el.getAttribute('data-poll')) || 5) * 1000;
      if (now - (last.get(el) || now - every) >= every) { last.set(el, now); fire(el); }
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
