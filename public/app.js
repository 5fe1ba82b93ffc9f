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
