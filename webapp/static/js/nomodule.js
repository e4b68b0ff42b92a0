// Runs only in browsers without ES modules (very old WebViews): the app
// cannot start there, so say what to do instead of showing a blank page.
(function () {
  var el = document.getElementById('boot');
  if (el) {
    el.innerHTML = '此浏览器版本过旧，无法运行巡查应用。<br>请升级微信，或用手机自带的 Chrome 浏览器打开本页面。';
    el.className = 'fatal';
  }
})();
