// The waiting-room screen (issue 15.4): one small self-contained page, no CDN, no framework, written in the
// JavaScript a cheap TV browser runs (ES5: var, function, XMLHttpRequest). Arabic, right to left, the token in
// large Arabic-Indic digits. It watches the clinic's now-serving stream (the `display` view: tokens and the
// doctor's name, no patient data); EventSource reconnects on its own with Last-Event-ID, and where the browser has
// no EventSource, or the stream stops for good (a revoked key, the server away), the page asks the JSON feed
// every 10 seconds until it answers. `data-token` beside each number is the plain value, for machines and tests.

export const DISPLAY_PAGE = `<!doctype html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>طبيبي · الدور الحالي</title>
<style>
  html, body { margin: 0; height: 100%; background: #0b2540; color: #fff; font-family: Tahoma, Arial, sans-serif; }
  body { display: flex; flex-direction: column; align-items: center; justify-content: space-around; text-align: center; }
  #doctor { font-size: 5vh; margin: 2vh 0 0; }
  .label { font-size: 4vh; color: #9ec5ea; margin: 0; }
  #now { font-size: 34vh; line-height: 1; font-weight: bold; margin: 0; }
  #next { font-size: 9vh; margin: 0; letter-spacing: 0.2em; }
  #counts { font-size: 3.5vh; color: #9ec5ea; }
  #state { font-size: 2.5vh; color: #f5c26b; min-height: 3vh; }
</style>
</head>
<body>
<h1 id="doctor"></h1>
<p class="label">الرقم الحالي</p>
<p id="now" data-token="">—</p>
<p class="label">التالي</p>
<p id="next" data-tokens=""></p>
<p id="counts"></p>
<p id="state">جارٍ الاتصال…</p>
<script>
(function () {
  var parts = location.pathname.split('/');
  var clinic = parts[parts.length - 1] || parts[parts.length - 2];
  var key = (location.search.match(/[?&]key=([^&]*)/) || [])[1] || '';
  var feed = '/display/' + clinic + '/feed?key=' + key;
  var digits = '٠١٢٣٤٥٦٧٨٩';
  function arabic (n) { return String(n).replace(/[0-9]/g, function (d) { return digits.charAt(+d); }); }
  function byId (id) { return document.getElementById(id); }
  function show (state) {
    byId('doctor').textContent = state.doctor ? 'د. ' + state.doctor : '';
    var now = byId('now');
    now.textContent = state.now_serving === null ? '—' : arabic(state.now_serving);
    now.setAttribute('data-token', state.now_serving === null ? '' : String(state.now_serving));
    var next = byId('next');
    var shown = [];
    for (var i = 0; i < state.next.length; i++) shown.push(arabic(state.next[i]));
    next.textContent = shown.join('  ');
    next.setAttribute('data-tokens', state.next.join(','));
    byId('counts').textContent = 'بالانتظار: ' + arabic(state.waiting) + ' · تمت المعاينة: ' + arabic(state.served);
  }
  function status (text) { byId('state').textContent = text; }
  var polling = null;
  function poll () {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', feed, true);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      if (xhr.status === 200) { show(JSON.parse(xhr.responseText)); status(''); }
      else if (xhr.status === 403) {
        // A revoked key: the screen shows nothing of the clinic any more.
        show({ doctor: null, now_serving: null, next: [], waiting: 0, served: 0 });
        byId('counts').textContent = '';
        status('مفتاح الشاشة غير صالح أو ملغى');
      }
      else status('جارٍ إعادة الاتصال…');
    };
    xhr.send();
  }
  function startPolling () {
    if (polling !== null) return;
    poll();
    polling = setInterval(poll, 10000);
  }
  if (typeof EventSource === 'undefined') { startPolling(); return; }
  function connect () {
    var source = new EventSource(feed + '&stream=true&timeout=3600');
    function onState (event) { show(JSON.parse(event.data)); status(''); }
    source.addEventListener('snapshot', onState);
    source.addEventListener('update', onState);
    source.onerror = function () {
      if (source.readyState === 2) {
        // Closed for good (an HTTP error): find out why, then try the stream again in a while.
        source.close();
        poll();
        setTimeout(connect, 10000);
      } else {
        status('جارٍ إعادة الاتصال…');
      }
    };
  }
  connect();
})();
</script>
</body>
</html>
`
