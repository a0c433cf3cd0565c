// Where the phone is (for distances and the arrival's location) and how to get to a site.

let position = null; // the phone's last known position

// Resolves to the phone's position, or the last known one (null if none) when it cannot tell.
export function locate() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (found) => {
        position = { lat: found.coords.latitude, lon: found.coords.longitude };
        resolve(position);
      },
      () => resolve(position),
      { timeout: 3000, maximumAge: 60000 },
    );
  });
}

// As the crow flies from the last known position, or null before the phone knows one.
export function distanceKm(site) {
  if (!position) return null;
  const rad = Math.PI / 180;
  const dLat = (site.lat - position.lat) * rad;
  const dLon = (site.lon - position.lon) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(position.lat * rad) * Math.cos(site.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(a));
}

export function mapsLink(site) {
  const label = encodeURIComponent(`${site.name}, ${site.address}`);
  return /iPhone|iPad|iPod/.test(navigator.userAgent)
    ? `maps://?q=${label}&ll=${site.lat},${site.lon}`
    : `geo:${site.lat},${site.lon}?q=${site.lat},${site.lon}(${label})`;
}
