// The app's entry module: registers the service worker and loads the app.
// The app is loaded with a dynamic import so that a failure to load it
// (an old browser, a file missing) shows a message instead of a blank page.

const boot = document.getElementById('boot');

function fatal(msg) {
  if (!boot) return;
  boot.className = 'fatal';
  boot.textContent = msg;
}

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((err) => {
    console.warn('service worker registration failed', err);
  });
}

import('./app.js').then((m) => m.start()).catch((err) => {
  console.error(err);
  fatal(navigator.onLine === false
    ? '应用还没有保存到手机上，没有网络时打不开。请在有信号的地方打开一次本页面并登录。'
    : '应用加载失败，请刷新页面重试。如仍不行，请升级微信或改用 Chrome 浏览器打开。');
});
