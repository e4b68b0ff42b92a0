// Position: the Geolocation API when the browser has it (WGS-84, with
// accuracy), else nothing — every caller works without a position.

let last = null; // {lon, lat, accuracy, at}
let watching = null;
const listeners = new Set();

export const available = typeof navigator !== 'undefined' && 'geolocation' in navigator;

function keep(p) {
  last = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: Date.now() };
  for (const fn of listeners) fn(last);
}

/** watch keeps the latest position while the app is open. */
export function watch() {
  if (!available || watching != null) return;
  try {
    watching = navigator.geolocation.watchPosition(keep, () => {}, { enableHighAccuracy: true, maximumAge: 30e3, timeout: 60e3 });
  } catch { watching = null; }
}

/** onPosition calls fn with every new position; returns the unsubscribe. */
export function onPosition(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** latest returns the last position if at most maxAge ms old. */
export function latest(maxAge = 120e3) {
  return last && Date.now() - last.at <= maxAge ? last : null;
}

/** fix returns a position now: the latest recent one, or a fresh fix
 *  within timeout ms, or null (denied, no signal, no API). */
export function fix(timeout = 8000) {
  const l = latest(60e3);
  if (l || !available) return Promise.resolve(l);
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => { if (!done) { done = true; resolve(v); } };
    setTimeout(() => finish(null), timeout + 500);
    try {
      navigator.geolocation.getCurrentPosition((p) => { keep(p); finish(last); }, () => finish(null),
        { enableHighAccuracy: true, timeout, maximumAge: 60e3 });
    } catch { finish(null); }
  });
}

/** distance in metres between two WGS-84 points (haversine). */
export function distance(lon1, lat1, lon2, lat2) {
  const r = Math.PI / 180, R = 6371008.8;
  const a = Math.sin((lat2 - lat1) * r / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** meters shows a distance: 320 米, 4.2 公里. */
export function meters(m) {
  return m < 1000 ? Math.round(m) + ' 米' : (m / 1000).toFixed(m < 10e3 ? 1 : 0) + ' 公里';
}

function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }

/** wgs84ToGcj02: the public transform (server/geo/china.go). */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  const a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
  const x = lon - 105.0, y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  const radLat = lat / 180.0 * PI;
  const magic = 1 - ee * Math.sin(radLat) * Math.sin(radLat), sqrtMagic = Math.sqrt(magic);
  dLat = dLat * 180.0 / (a * (1 - ee) / (magic * sqrtMagic) * PI);
  dLon = dLon * 180.0 / (a / sqrtMagic * Math.cos(radLat) * PI);
  return [lon + dLon, lat + dLat];
}

/** gcj02ToWgs84 inverts wgs84ToGcj02 by iteration (to metres). */
export function gcj02ToWgs84(lon, lat) {
  let [wl, wt] = [lon, lat];
  for (let i = 0; i < 5; i++) {
    const [gl, gt] = wgs84ToGcj02(wl, wt);
    wl += lon - gl; wt += lat - gt;
  }
  return [wl, wt];
}

/** siteWGS84 is a site's position in WGS-84 ([lon, lat]) or null: the
 *  server's lon_wgs84/lat_wgs84, else its lon/lat converted from crs. */
export function siteWGS84(f) {
  if (typeof f.lon_wgs84 === 'number' && typeof f.lat_wgs84 === 'number') return [f.lon_wgs84, f.lat_wgs84];
  if (typeof f.lon !== 'number' || typeof f.lat !== 'number') return null;
  if (f.crs === 'gcj02') return gcj02ToWgs84(f.lon, f.lat);
  if (f.crs === 'bd09') {
    // BD-09 → GCJ-02 (server/geo/china.go), then → WGS-84.
    const x = f.lon - 0.0065, y = f.lat - 0.006, xp = Math.PI * 3000.0 / 180.0;
    const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * xp);
    const t = Math.atan2(y, x) - 0.000003 * Math.cos(x * xp);
    return gcj02ToWgs84(z * Math.cos(t), z * Math.sin(t));
  }
  return [f.lon, f.lat];
}
